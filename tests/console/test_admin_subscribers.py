"""The subscriber list (search, filters, keyset pages), one subscriber's record, and staff actions."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, func, select

from extensions import db
from models import AuditEvent, ConsentEvent, Subscriber, Subscription, SubscriptionStatus
from services.console import subscriber_admin
from services.console.subscriber_admin import SubscriberFilter
from services.core.pagination import decode_cursor
from services.subscriptions import subscriptions
from tests.support import csrf_token, link_path

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def add(email, name="", *, created_at=T0, list_=None, status=SubscriptionStatus.CONFIRMED, source=None):
    subscriber = Subscriber(email=email, full_name=name, created_at=created_at)
    db.session.add(subscriber)
    if list_ is not None:
        db.session.add(Subscription(subscriber=subscriber, mailing_list=list_, status=status,
                                    created_at=created_at, source_url=source))
    db.session.commit()
    return subscriber


def emails(filters: SubscriberFilter | None = None, size=50) -> list[str]:
    filters = filters or SubscriberFilter()
    return [row.subscriber.email for row in subscriber_admin.search(db.session, filters, size=size).items]


def test_search_matches_address_prefixes_and_name_parts(app):
    add("ada@example.com", "Ada Lovelace")
    add("grace@example.com", "Grace Hopper")
    add("lovelace-fan@example.com", "Fan")
    assert emails(SubscriberFilter(query="ADA@")) == ["ada@example.com"]
    assert sorted(emails(SubscriberFilter(query="love"))) == ["ada@example.com", "lovelace-fan@example.com"]
    assert emails(SubscriberFilter(query="hop")) == ["grace@example.com"]
    assert emails(SubscriberFilter(query="%")) == [] and emails(SubscriberFilter(query="_")) == []


def test_filters_by_list_status_source_and_date_range(app, newsletter, make_list):
    other = make_list("other")
    add("a@example.com", created_at=T0, list_=newsletter, source="https://news.example/a")
    add("b@example.com", created_at=T0 + timedelta(days=1), list_=newsletter,
        status=SubscriptionStatus.PENDING, source="https://news.example/b")
    add("c@example.com", created_at=T0 + timedelta(days=2), list_=other)
    assert emails(SubscriberFilter(list_id=other.id)) == ["c@example.com"]
    assert emails(SubscriberFilter(list_id=newsletter.id, status=SubscriptionStatus.PENDING)) == ["b@example.com"]
    assert emails(SubscriberFilter(source="https://news.example/a")) == ["a@example.com"]
    assert emails(SubscriberFilter(since=date(2026, 3, 2), until=date(2026, 3, 2))) == ["b@example.com"]
    assert emails(SubscriberFilter(since=date(2026, 3, 2))) == ["c@example.com", "b@example.com"]


def test_filtering_by_source_names_the_article_by_its_title(signed_in_client, newsletter):
    url = "https://news.example/summit?id=1"
    add("a@example.com", list_=newsletter, source=url)
    db.session.scalars(select(Subscription)).one().utm = {"title": "Summit <talks>"}
    db.session.commit()
    page = signed_in_client.get("/admin/subscribers", query_string={"source": url}).get_data(as_text=True)
    assert f'<a href="{url}" title="{url}">Summit &lt;talks&gt;</a>' in page
    untitled = signed_in_client.get("/admin/subscribers", query_string={"source": "https://news.example/other"})
    assert 'title="https://news.example/other">https://news.example/other</a>' in untitled.get_data(as_text=True)
    # not a web address: named, never linked
    for typed in ("javascript:alert(1)", "nul\x00byte"):
        answer = signed_in_client.get("/admin/subscribers", query_string={"source": typed})
        assert answer.status_code == 200 and '<a href="javascript' not in answer.get_data(as_text=True)


def test_keyset_pages_walk_everyone_once_newest_first_without_offset(app):
    # Ties on created_at are broken by id, so no one is skipped or repeated.
    for n in range(7):
        add(f"p{n}@example.com", created_at=T0 + timedelta(minutes=n // 3))
    statements = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, parameters, *rest: statements.append((statement, parameters)))
    seen, cursor = [], None
    while True:
        page = subscriber_admin.search(db.session, SubscriberFilter(), cursor, size=3)
        seen += [row.subscriber.email for row in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    expected = db.session.scalars(select(Subscriber.email).order_by(
        Subscriber.created_at.desc(), Subscriber.id.desc())).all()
    assert seen == expected and len(seen) == 7
    # SQLite's dialect always writes "OFFSET ?" after LIMIT, bound to 0.
    assert all(parameters[-1] == 0 for statement, parameters in statements if "OFFSET" in statement)
    assert decode_cursor("garbage", 2) is None and decode_cursor(cursor, 1) is None


def test_list_page_shows_filters_pages_and_links(signed_in_client, newsletter):
    for n in range(subscriber_admin.DEFAULT_PAGE_SIZE + 2):
        add(f"n{n:02d}@example.com", f"Reader {n}", created_at=T0 + timedelta(seconds=n), list_=newsletter)
    page = signed_in_client.get(f"/admin/subscribers?list={newsletter.id}&status=confirmed")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "n51@example.com" in html and "n01@example.com" not in html
    assert 'rel="next"' in html
    older = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = signed_in_client.get(older).get_data(as_text=True)
    assert "n01@example.com" in second and "n00@example.com" in second and "n51@example.com" not in second
    bad_date = signed_in_client.get("/admin/subscribers?since=not-a-date")
    assert bad_date.status_code == 200 and "n51@example.com" in bad_date.get_data(as_text=True)


def test_subscriber_page_shows_subscriptions_and_the_whole_consent_history(
        signed_in_client, newsletter, origin, deliver):
    subscriptions.subscribe("hist@example.com", "Hist Ory", origin)
    [mail] = deliver(1)
    signed_in_client.post(link_path(mail, "confirm"))
    target = db.session.scalar(select(Subscriber.id))
    html = signed_in_client.get(f"/admin/subscribers/{target}").get_data(as_text=True)
    assert "hist@example.com" in html and newsletter.name in html
    assert "subscribe requested" in html and "confirmed" in html
    assert "192.0.2.1" in html and "subscribe-v1" in html and "https://news.example/article" in html


def test_staff_unsubscribe_is_a_consent_event_and_audited(signed_in_client, newsletter):
    person = add("leave@example.com", list_=newsletter)
    token = csrf_token(signed_in_client, "/admin/")
    response = signed_in_client.post(f"/admin/subscribers/{person.id}/unsubscribe",
                                     data={"csrf_token": token, "list_id": newsletter.id})
    assert response.status_code == 303
    assert db.session.scalar(select(Subscription.status)) == SubscriptionStatus.UNSUBSCRIBED
    consent = db.session.scalars(select(ConsentEvent)).one()
    assert (consent.form, consent.subscriber_id) == ("admin", person.id)
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "subscriber.unsubscribe")).one()
    assert audit.actor == "owner@example.com" and audit.target == f"subscriber:{person.id}"


def test_resend_confirmation_mails_a_working_link_within_the_throttle(
        app, signed_in_client, newsletter, origin, deliver):
    subscriptions.subscribe("slow@example.com", "", origin)
    deliver(1)
    target = db.session.scalar(select(Subscriber.id))
    token = csrf_token(signed_in_client, "/admin/")
    resend = {"csrf_token": token, "list_id": newsletter.id}

    throttled = signed_in_client.post(f"/admin/subscribers/{target}/resend", data=resend, follow_redirects=True)
    assert "recently" in throttled.get_data(as_text=True)

    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    sent = signed_in_client.post(f"/admin/subscribers/{target}/resend", data=resend, follow_redirects=True)
    assert "confirmation mail is queued" in sent.get_data(as_text=True)
    mails = deliver(2)
    assert mails[1]["To"] == "slow@example.com"
    signed_in_client.post(link_path(mails[1], "confirm"))
    assert db.session.scalar(select(Subscription.status)) == SubscriptionStatus.CONFIRMED

    confirmed = signed_in_client.post(f"/admin/subscribers/{target}/resend", data=resend, follow_redirects=True)
    assert "Only a pending subscription" in confirmed.get_data(as_text=True)
    assert len(deliver()) == 2


def test_bulk_unsubscribe_and_erase_act_on_the_selection_only(signed_in_client, newsletter, make_list):
    other = make_list("other")
    one, two, three = (add(f"{n}@example.com", list_=newsletter) for n in ("one", "two", "three"))
    db.session.add(Subscription(subscriber_id=one.id, list_id=other.id, status=SubscriptionStatus.PENDING))
    db.session.commit()
    token = csrf_token(signed_in_client, "/admin/")
    response = signed_in_client.post("/admin/subscribers/bulk", data={
        "csrf_token": token, "action": "unsubscribe", "subscriber": [one.id, two.id],
        "return_query": "status=confirmed"})
    assert response.headers["Location"] == "/admin/subscribers?status=confirmed"
    statuses = dict(db.session.execute(select(Subscriber.email, func.min(Subscription.status))
                                       .join(Subscription).group_by(Subscriber.email)).all())
    assert statuses == {"one@example.com": "unsubscribed", "two@example.com": "unsubscribed",
                        "three@example.com": "confirmed"}

    signed_in_client.post("/admin/subscribers/bulk", data={
        "csrf_token": token, "action": "erase", "subscriber": [one.id, three.id]})
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 3  # not confirmed: nothing erased
    signed_in_client.post("/admin/subscribers/bulk", data={
        "csrf_token": token, "action": "erase", "confirm_erase": "yes", "subscriber": [one.id, three.id]})
    assert db.session.scalars(select(Subscriber.email)).all() == ["two@example.com"]


def test_search_text_with_a_nul_byte_finds_nothing_instead_of_failing(signed_in_client, newsletter, origin):
    from services.subscriptions import subscriptions

    subscriptions.subscribe("nul@example.com", "Nul Reader", origin)
    response = signed_in_client.get("/admin/subscribers?q=nul%00")
    assert response.status_code == 200
    assert "nul@example.com" not in response.get_data(as_text=True)
