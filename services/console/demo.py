"""Demo data that reproduces the article page Roster was specified from."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Cohort, Course, CourseFormat, MailingList, Subscription
from models.base import utcnow
from services.core.transactions import write_transaction

# The list migration 0014 gives a fresh database.
FRESH_INSTALL_LIST_SLUG = "newsletter"

DEMO_LIST = {
    "slug": "international-relations",
    "name": "International Relations Updates",
    "description": "Analysis of diplomacy and world affairs, delivered weekly.",
}


DEMO_COURSE = {
    "slug": "certificate-international-relations",
    "title": "Certificate Course in International Relations",
    "summary": "A six-week online course on how states, alliances and international "
               "organisations negotiate, with weekly readings, live seminars and a certificate.",
    "description": (
        "Six weeks, one theme a week:\n\n"
        "1. States, power and the international system\n"
        "2. Diplomacy and summitry\n"
        "3. International law and organisations\n"
        "4. Security, alliances and arms control\n"
        "5. Trade, sanctions and economic statecraft\n"
        "6. Case study: preparing a summit\n\n"
        "Each week has a recorded lecture, a set of readings and a **live online seminar**. "
        "Participants who complete the weekly assignments receive a certificate."
    ),
    "format": CourseFormat.ONLINE,
    "duration_weeks": 6,
    "fee_minor": 24900,
    "currency": "EUR",
    "contact_email": "courses@example.org",
    "is_published": True,
}


def _six_week_cohort(label_prefix: str, starts_on: date, **values) -> Cohort:
    return Cohort(label=f"{label_prefix} {starts_on:%B %Y}", starts_on=starts_on,
                  ends_on=starts_on + timedelta(weeks=6, days=-3), timezone="UTC", **values)


def _seed_course(session: Session) -> list[str]:
    """The course the article's promo links to, with an upcoming and a past cohort."""
    if session.scalar(select(Course.id).where(Course.slug == DEMO_COURSE["slug"])) is not None:
        return []
    today = utcnow().date()
    upcoming_start = today + timedelta(weeks=5, days=-today.weekday())  # a Monday
    past_start = upcoming_start - timedelta(weeks=16)
    session.add(Course(**DEMO_COURSE, cohorts=[
        _six_week_cohort("Starting", upcoming_start, capacity=30, seats_taken=0,
                         enrolment_opens_at=utcnow() - timedelta(days=1),
                         enrolment_closes_at=datetime.combine(upcoming_start, time.min, UTC)),
        _six_week_cohort("Started", past_start, capacity=30, seats_taken=0,
                         enrolment_opens_at=datetime.combine(past_start - timedelta(weeks=6), time.min,
                                                             UTC),
                         enrolment_closes_at=datetime.combine(past_start, time.min, UTC)),
    ]))
    return [f"course {DEMO_COURSE['title']!r} with an upcoming and a past cohort"]


def _seed_list(session: Session) -> str:
    """The demo list: a fresh install's untouched default list becomes it, so the
    hosted form and the embeds that name no list offer the demo's newsletter."""
    lists = session.scalars(select(MailingList).limit(2)).all()
    fresh = lists[0] if len(lists) == 1 and lists[0].slug == FRESH_INSTALL_LIST_SLUG else None
    if fresh is not None and session.scalar(select(Subscription.id).where(Subscription.list_id == fresh.id)) is None:
        for key, value in DEMO_LIST.items():
            setattr(fresh, key, value)
        return f"mailing list {DEMO_LIST['name']!r} (the fresh install's list, renamed)"
    has_default = session.scalar(select(MailingList.id).where(MailingList.is_default))
    session.add(MailingList(**DEMO_LIST, is_public=True, is_default=has_default is None))
    return f"mailing list {DEMO_LIST['name']!r}"


def seed() -> list[str]:
    """Create the demo data that is missing; safe to run again. Returns what was made."""
    made = []
    with write_transaction() as session:
        if session.scalar(select(MailingList).where(MailingList.slug == DEMO_LIST["slug"])) is None:
            made.append(_seed_list(session))
        made += _seed_course(session)
    return made
