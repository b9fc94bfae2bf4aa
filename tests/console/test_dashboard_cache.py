"""The dashboard's figures over every subscription are cached in the database for
DASHBOARD_CACHE_SECONDS (shared by every web process), then recomputed."""

from datetime import timedelta

from sqlalchemy import select, update

from extensions import db
from models import CachedAggregate, SubscriptionStatus
from models.base import utcnow
from services.console import dashboard
from tests.console.test_admin_dashboard import add_signup

SOURCE = "https://news.example/cached"


def pending(figures, list_name):
    return next(row.counts[SubscriptionStatus.PENDING] for row in figures.status_counts if row.name == list_name)


def age_cache(seconds: int) -> None:
    db.session.execute(update(CachedAggregate).values(computed_at=utcnow() - timedelta(seconds=seconds)))
    db.session.commit()


def test_figures_are_served_from_the_cache_until_they_expire(app, newsletter):
    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    add_signup("first@example.com", newsletter, source=SOURCE)
    first = dashboard.subscription_figures(db.session)
    assert pending(first, newsletter.name) == 1 and first.days[-1].count == 1
    assert db.session.scalar(select(CachedAggregate.key)) == dashboard.SUBSCRIPTION_FIGURES

    add_signup("second@example.com", newsletter, source=SOURCE)
    hit = dashboard.subscription_figures(db.session)
    assert hit == first  # the stored figures, not a recount

    age_cache(61)
    recounted = dashboard.subscription_figures(db.session)
    assert recounted.computed_at > first.computed_at
    assert pending(recounted, newsletter.name) == 2 and recounted.days[-1].count == 2
    assert [(s.source_url, s.signups, s.confirmed) for s in recounted.sources] == [(SOURCE, 2, 0)]
    assert recounted.status_counts == dashboard.status_counts(db.session)
    assert recounted.days == dashboard.signups_per_day(db.session)
    assert recounted.sources == dashboard.top_sources(db.session)


def test_a_new_list_shows_at_once_with_zeros(app, newsletter, make_list):
    add_signup("one@example.com", newsletter)
    dashboard.subscription_figures(db.session)
    make_list("fresh", name="Fresh list")
    figures = dashboard.subscription_figures(db.session)
    assert pending(figures, "Fresh list") == 0 and pending(figures, newsletter.name) == 1


def test_refresh_command_recomputes_for_cron(app, newsletter):
    add_signup("early@example.com", newsletter)
    dashboard.subscription_figures(db.session)
    add_signup("late@example.com", newsletter)
    result = app.test_cli_runner().invoke(args=["maintenance", "refresh-dashboard"])
    assert result.exit_code == 0 and "dashboard figures computed as of" in result.output
    db.session.expire_all()
    assert pending(dashboard.subscription_figures(db.session), newsletter.name) == 2


def test_dashboard_page_says_how_old_its_figures_are(app, signed_in_client, newsletter):
    add_signup("page@example.com", newsletter)
    html = signed_in_client.get("/admin/").get_data(as_text=True)
    computed_at = db.session.scalar(select(CachedAggregate.computed_at))
    assert f"as of {computed_at:%H:%M} UTC" in html and "every 60 seconds" in html
