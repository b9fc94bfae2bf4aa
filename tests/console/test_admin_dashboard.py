"""Dashboard figures: statuses, sign-ups per day (SVG with a table), top sources, outbox health."""

import re
from datetime import timedelta

from sqlalchemy import insert

from extensions import db
from models import (
    BounceEvent,
    BounceKind,
    Campaign,
    CampaignRecipient,
    OutboxMessage,
    OutboxStatus,
    RecipientStatus,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from models.base import utcnow
from services.console import dashboard


def add_signup(email, mailing_list, *, days_ago=0, status=SubscriptionStatus.PENDING, source=None,
               confirmed=False, title=None):
    when = utcnow() - timedelta(days=days_ago)
    subscriber = Subscriber(email=email, created_at=when)
    db.session.add(Subscription(subscriber=subscriber, mailing_list=mailing_list, status=status,
                                created_at=when, source_url=source, utm={"title": title} if title else None,
                                confirmed_at=when if confirmed else None))
    db.session.commit()


def add_mail(status, attempts=0, error=None):
    db.session.add(OutboxMessage(message_id=f"<{utcnow().timestamp()}-{status}-{attempts}@t>",
                                 recipient="x@example.com", category="t", subject="s", text_body="",
                                 html_body="", status=status, attempts=attempts, last_error=error))
    db.session.commit()


def test_status_counts_per_list(app, newsletter, make_list):
    empty = make_list("empty")
    add_signup("a@example.com", newsletter, status=SubscriptionStatus.CONFIRMED)
    add_signup("b@example.com", newsletter)
    add_signup("c@example.com", newsletter, status=SubscriptionStatus.UNSUBSCRIBED)
    counts = {row.name: dict(row.counts) for row in dashboard.status_counts(db.session)}
    assert counts[newsletter.name] == {"pending": 1, "confirmed": 1, "unsubscribed": 1}
    assert counts[empty.name] == {"pending": 0, "confirmed": 0, "unsubscribed": 0}


def test_signups_per_day_cover_thirty_days_with_zeros(app, newsletter):
    add_signup("today1@example.com", newsletter)
    add_signup("today2@example.com", newsletter)
    add_signup("week@example.com", newsletter, days_ago=7)
    add_signup("old@example.com", newsletter, days_ago=31)
    days = dashboard.signups_per_day(db.session)
    assert len(days) == 30 and days[-1].day == utcnow().date()
    assert days[-1].count == 2 and days[-8].count == 1
    assert sum(d.count for d in days) == 3


def test_top_sources_rank_by_confirmed_signups_with_their_rate(app, newsletter):
    a, b = "https://news.example/a", "https://news.example/b"
    add_signup("1@example.com", newsletter, source=a, confirmed=True, status=SubscriptionStatus.CONFIRMED)
    add_signup("2@example.com", newsletter, source=a)
    add_signup("3@example.com", newsletter, source=b, confirmed=True, status=SubscriptionStatus.CONFIRMED)
    # Confirmed and then left: still a confirmed sign-up from this article.
    add_signup("4@example.com", newsletter, source=b, confirmed=True, status=SubscriptionStatus.UNSUBSCRIBED)
    add_signup("5@example.com", newsletter)
    top = dashboard.top_sources(db.session)
    assert [(s.source_url, s.confirmed, s.signups) for s in top] == [(b, 2, 2), (a, 1, 2)]
    assert [s.confirmation_rate for s in top] == [1.0, 0.5]


def test_top_sources_carry_their_articles_titles(app, newsletter):
    titled, untitled = "https://news.example/summit", "https://news.example/plain"
    add_signup("1@example.com", newsletter, source=titled, title="Ministers call for a summit", confirmed=True)
    add_signup("2@example.com", newsletter, source=titled)  # sent without one
    add_signup("3@example.com", newsletter, source=untitled)
    assert [(s.source_url, s.title) for s in dashboard.top_sources(db.session)] == [
        (titled, "Ministers call for a summit"), (untitled, None)]
    assert dashboard.refresh_subscription_figures(db.session).sources == dashboard.top_sources(db.session)


def test_the_dashboard_names_sources_by_title_with_the_url_on_hover(signed_in_client, newsletter):
    url = "https://news.example/summit?id=1&page=2"
    add_signup("1@example.com", newsletter, source=url, title="<b>Summit</b> & talks", confirmed=True)
    add_signup("2@example.com", newsletter, source="https://news.example/plain")
    html = signed_in_client.get("/admin/").get_data(as_text=True)
    escaped_url = "https://news.example/summit?id=1&amp;page=2"
    assert (f'<a href="/admin/subscribers?source=https://news.example/summit?id%3D1%26page%3D2" '
            f'title="{escaped_url}">&lt;b&gt;Summit&lt;/b&gt; &amp; talks</a>') in html
    assert f'<a href="{escaped_url}" rel="noopener noreferrer"' in html  # the article itself
    assert 'title="https://news.example/plain">https://news.example/plain</a>' in html  # no title: the URL
    assert "<b>Summit" not in html


def test_the_chart_has_a_labelled_y_axis_and_dates_under_it(signed_in_client, newsletter):
    for n in range(4):
        add_signup(f"{n}@example.com", newsletter, days_ago=3)
    html = signed_in_client.get("/admin/").get_data(as_text=True)
    ticks = re.findall(r'class="tick">(\d+)</text>', html)
    dates = re.findall(r'class="date">([\d-]+)</text>', html)
    today = utcnow().date()
    assert ticks == ["0", "2", "4"]
    assert dates == [(today - timedelta(days=d)).isoformat() for d in (29, 14, 0)]
    assert f"({dates[0]} to {dates[-1]}), at most 4 in one day." in html  # the summary a screen reader reads


def test_outbox_health_counts_queued_retrying_and_failed(app):
    add_mail(OutboxStatus.QUEUED)
    add_mail(OutboxStatus.QUEUED, attempts=2, error="timeout")
    add_mail(OutboxStatus.FAILED, attempts=8, error="refused")
    add_mail(OutboxStatus.SENT, attempts=1)
    health = dashboard.outbox_health(db.session)
    assert (health.queued, health.retrying, health.failed) == (2, 1, 1)
    assert health.oldest_queued_at <= utcnow()


def test_dashboard_page_draws_an_accessible_svg_chart(signed_in_client, newsletter):
    add_signup("chart@example.com", newsletter, source="https://news.example/chart", confirmed=True,
               status=SubscriptionStatus.CONFIRMED)
    add_mail(OutboxStatus.FAILED, attempts=8, error="refused")
    html = signed_in_client.get("/admin/").get_data(as_text=True)
    assert '<svg class="chart"' in html and 'role="img"' in html
    assert "<title id=\"signups-title\">Sign-ups per day: 1 in 30 days" in html
    assert html.count("<rect ") == 30
    assert f"<td>{utcnow().date().isoformat()}</td><td class=\"num\">1</td>" in html  # the table fallback
    assert "https://news.example/chart" in html and "100%" in html
    assert 'href="/admin/outbox?status=failed">1</a>' in html


def _sent_mail(count: int, *, days_ago: float = 0) -> None:
    when = utcnow() - timedelta(days=days_ago)
    db.session.execute(insert(OutboxMessage.__table__), [dict(
        message_id=f"<sent-{days_ago}-{n}@t>", recipient=f"r{n}@example.com", category="t", subject="s",
        text_body="", html_body="", status=OutboxStatus.SENT, sent_at=when, headers={}, attachments=[])
        for n in range(count)])
    db.session.commit()


def _bounces(kind: BounceKind, count: int, *, days_ago: float = 0) -> None:
    db.session.add_all([BounceEvent(address=f"b{n}@example.com", kind=kind, source="dsn",
                                    occurred_at=utcnow() - timedelta(days=days_ago)) for n in range(count)])
    db.session.commit()


def test_bounces_and_complaints_of_the_last_30_days_with_their_rates(
        app, signed_in_client, newsletter, readers, make_campaign):
    _sent_mail(300)
    _sent_mail(50, days_ago=40)  # before the window: not counted
    campaign = db.session.get(Campaign, make_campaign(newsletter))
    campaign.started_at = utcnow() - timedelta(days=2)
    db.session.add_all([CampaignRecipient(campaign_id=campaign.id, subscriber_id=sid, email=f"c{sid}@example.com",
                                          status=RecipientStatus.SENT, sent_at=utcnow() - timedelta(days=1))
                        for sid in readers(newsletter, 100)])
    db.session.commit()
    _bounces(BounceKind.HARD, 2)
    _bounces(BounceKind.SOFT, 5)
    _bounces(BounceKind.COMPLAINT, 1)
    _bounces(BounceKind.HARD, 9, days_ago=31)

    figures = dashboard.deliverability(db.session)
    assert (figures.sent, figures.hard_bounces, figures.soft_bounces, figures.complaints) == (400, 2, 5, 1)
    assert (figures.bounce_rate, figures.complaint_rate) == (7 / 400, 1 / 400)
    assert not figures.bounce_rate_high and not figures.complaint_rate_high
    page = signed_in_client.get("/admin/").get_data(as_text=True)
    assert "Bounces and complaints, last 30 days" in page and "1.75 %" in page and "0.25 %" in page
    assert "above the" not in page and "under the 0.3 % line" in page and "Gmail" in page

    _bounces(BounceKind.HARD, 1)
    _bounces(BounceKind.COMPLAINT, 1)  # 8 / 400 = 2 % bounces, 2 / 400 = 0.5 % complaints: both flagged
    figures = dashboard.deliverability(db.session)
    assert figures.bounce_rate_high and figures.complaint_rate_high
    page = signed_in_client.get("/admin/").get_data(as_text=True)
    assert "2.00 % <strong class=\"error\">above the 2 % line</strong>" in page
    assert "0.50 % <strong class=\"error\">above the 0.3 % line</strong>" in page


def test_no_mail_sent_gives_rates_of_zero(app, signed_in_client):
    _bounces(BounceKind.COMPLAINT, 1)
    figures = dashboard.deliverability(db.session)
    assert (figures.sent, figures.complaint_rate, figures.complaint_rate_high) == (0, 0.0, False)
    assert signed_in_client.get("/admin/").status_code == 200
