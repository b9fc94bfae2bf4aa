"""The figures on the staff dashboard, each one aggregate query."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from models import (
    BounceKind,
    Campaign,
    CampaignRecipient,
    Cohort,
    Course,
    Enrollment,
    EnrollmentStatus,
    MailingList,
    OutboxMessage,
    OutboxStatus,
    RecipientStatus,
    Subscription,
    SubscriptionStatus,
)
from models.base import utcnow
from services.console import aggregate_cache
from services.core.errors import NotFound
from services.core.origins import SOURCE_TITLE_KEY
from services.core.validation import storable
from services.courses.courses import has_started
from services.mail import bounces

CHART_DAYS = 30
TOP_SOURCES = 10
SUBSCRIPTION_FIGURES = "dashboard.subscriptions"  # its key in cached_aggregates


@dataclass(frozen=True)
class ListStatusCounts:
    list_id: int
    name: str
    counts: dict[SubscriptionStatus, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _counts_by_list(session: Session) -> dict[int, dict[str, int]]:
    counted: dict[int, dict[str, int]] = {}
    for list_id, status, count in session.execute(
        select(Subscription.list_id, Subscription.status, func.count())
        .group_by(Subscription.list_id, Subscription.status)
    ):
        counted.setdefault(list_id, {})[status.value] = count
    return counted


def _per_list(session: Session, counted: dict[int, dict[str, int]]) -> list[ListStatusCounts]:
    """Every list, even an empty one, with its counts."""
    return [
        ListStatusCounts(m.id, m.name, {s: counted.get(m.id, {}).get(s.value, 0) for s in SubscriptionStatus})
        for m in session.scalars(select(MailingList).order_by(MailingList.name))
    ]


def status_counts(session: Session) -> list[ListStatusCounts]:
    """Subscriptions per list and status (every list, even an empty one)."""
    return _per_list(session, _counts_by_list(session))


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


def _utc_day(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite stores UTC text


def signups_per_day(session: Session, days: int = CHART_DAYS) -> list[DayCount]:
    """New subscriptions per UTC day for the last `days` days, today last, gaps as zero."""
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    day = _utc_day(session, Subscription.created_at)
    counted = {
        str(value): count for value, count in session.execute(
            select(day, func.count())
            .where(Subscription.created_at >= datetime.combine(first, time.min, tzinfo=UTC))
            .group_by(day)
        )
    }
    return [DayCount(first + timedelta(days=n), counted.get(str(first + timedelta(days=n)), 0))
            for n in range(days)]


@dataclass(frozen=True)
class SourceStats:
    source_url: str
    signups: int
    confirmed: int
    title: str | None = None  # the article's title, as its page sent it

    @property
    def confirmation_rate(self) -> float:
        return self.confirmed / self.signups if self.signups else 0.0


def article_titles(session: Session, urls: list[str]) -> dict[str, str]:
    """The title each of these article URLs was sent with (one of them, if it changed),
    for those that have one; found by the source_url index."""
    urls = [url for url in urls if url and storable(url)]
    if not urls:
        return {}
    title = Subscription.utm[SOURCE_TITLE_KEY].as_string()
    return dict(session.execute(
        select(Subscription.source_url, func.max(title))
        .where(Subscription.source_url.in_(urls), title.is_not(None))
        .group_by(Subscription.source_url)).tuples().all())


def top_sources(session: Session, limit: int = TOP_SOURCES) -> list[SourceStats]:
    """The article URLs with the most confirmed sign-ups (confirmed at any time,
    even if they left later), the share of their sign-ups that confirmed, and their titles."""
    confirmed = func.sum(case((Subscription.confirmed_at.is_not(None), 1), else_=0))
    rows = session.execute(
        select(Subscription.source_url, func.count(), confirmed)
        .where(Subscription.source_url.is_not(None))
        .group_by(Subscription.source_url)
        .order_by(confirmed.desc(), func.count().desc(), Subscription.source_url)
        .limit(limit)
    ).all()
    titles = article_titles(session, [url for url, _, _ in rows])
    return [SourceStats(url, signups, int(confirmed_count or 0), titles.get(url))
            for url, signups, confirmed_count in rows]


@dataclass(frozen=True)
class OutboxHealth:
    queued: int
    retrying: int
    failed: int
    oldest_queued_at: datetime | None


def outbox_health(session: Session) -> OutboxHealth:
    queued, retrying, failed, oldest = session.execute(select(
        func.count().filter(OutboxMessage.status == OutboxStatus.QUEUED),
        func.count().filter(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.attempts > 0),
        func.count().filter(OutboxMessage.status == OutboxStatus.FAILED),
        func.min(OutboxMessage.created_at).filter(OutboxMessage.status == OutboxStatus.QUEUED),
    ).where(OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.FAILED]))).one()
    return OutboxHealth(queued, retrying, failed, oldest)


# The lines a sender watches: Gmail's bulk-sender rules keep spam complaints under 0.3 %;
# a bounce rate under 2 % is the common guideline of mail providers and sending services.
COMPLAINT_RATE_LIMIT = 0.003
BOUNCE_RATE_LIMIT = 0.02
DELIVERABILITY_DAYS = 30


@dataclass(frozen=True)
class Deliverability:
    """Bounces and complaints over the last `days` days, and the mails sent in them."""
    hard_bounces: int
    soft_bounces: int
    complaints: int
    sent: int
    days: int

    @property
    def bounce_rate(self) -> float:
        return (self.hard_bounces + self.soft_bounces) / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0

    @property
    def bounce_rate_high(self) -> bool:
        return self.bounce_rate >= BOUNCE_RATE_LIMIT

    @property
    def complaint_rate_high(self) -> bool:
        return self.complaint_rate >= COMPLAINT_RATE_LIMIT


def deliverability(session: Session, days: int = DELIVERABILITY_DAYS) -> Deliverability:
    """The mails sent (the outbox's and newsletters') and their bounces and complaints since `days` ago."""
    since = utcnow() - timedelta(days=days)
    counted = bounces.counts_since(session, since)
    # Only campaigns still sending or finished within the window: their recipients are
    # found by the (campaign, status) index rather than by reading every one ever sent.
    recent_campaigns = select(Campaign.id).where(Campaign.started_at.is_not(None),
                                                 or_(Campaign.finished_at.is_(None), Campaign.finished_at > since))
    sent = session.scalar(select(
        select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at > since)
        .scalar_subquery()
        + select(func.count()).where(CampaignRecipient.campaign_id.in_(recent_campaigns),
                                     CampaignRecipient.status == RecipientStatus.SENT,
                                     CampaignRecipient.sent_at > since).scalar_subquery()))
    return Deliverability(counted[BounceKind.HARD], counted[BounceKind.SOFT], counted[BounceKind.COMPLAINT],
                          sent or 0, days)


@dataclass(frozen=True)
class CohortSeats:
    cohort: Cohort
    course_title: str
    waitlisted: int

    @property
    def seats_taken(self) -> int:
        """Every seat held, those granted over capacity included."""
        return self.cohort.seats_taken + self.cohort.seats_over_capacity


def _cohort_seats(session: Session, *conditions) -> list[CohortSeats]:
    waitlisted = func.count(Enrollment.id).filter(Enrollment.status == EnrollmentStatus.WAITLISTED)
    rows = session.execute(
        select(Cohort, Course.title, waitlisted)
        .join(Course, Course.id == Cohort.course_id)
        .outerjoin(Enrollment, Enrollment.cohort_id == Cohort.id)
        .where(*conditions)
        .group_by(Cohort.id, Course.id)
        .order_by(Cohort.starts_on, Course.title, Cohort.id)
    )
    return [CohortSeats(cohort, title, count) for cohort, title, count in rows]


def open_cohorts(session: Session) -> list[CohortSeats]:
    """Every cohort that has not started (enrolment open, or not yet open)."""
    # A cohort dated before today (UTC) has started in every timezone; has_started
    # decides the rest in the cohort's own timezone.
    return [seats for seats in _cohort_seats(session, Cohort.starts_on >= utcnow().date())
            if not has_started(seats.cohort)]


def course_cohorts(session: Session, course_id: int) -> list[CohortSeats]:
    return _cohort_seats(session, Cohort.course_id == course_id)


def cohort_seats(session: Session, cohort_id: int) -> CohortSeats:
    found = _cohort_seats(session, Cohort.id == cohort_id)
    if not found:
        raise NotFound("No such cohort.")
    return found[0]


@dataclass(frozen=True)
class SubscriptionFigures:
    """The figures over every subscription, as of `computed_at`."""
    status_counts: list[ListStatusCounts]
    days: list[DayCount]
    sources: list[SourceStats]
    computed_at: datetime


def _subscription_aggregates(session: Session) -> dict:
    # JSON: list ids become strings.
    return {
        "counts": {str(list_id): counts for list_id, counts in _counts_by_list(session).items()},
        "days": [[d.day.isoformat(), d.count] for d in signups_per_day(session)],
        "sources": [[s.source_url, s.signups, s.confirmed, s.title] for s in top_sources(session)],
    }


def _figures(session: Session, cached: aggregate_cache.Cached) -> SubscriptionFigures:
    # Lists are read live: a new one shows at once, with zeros until the next refresh.
    value = cached.value
    return SubscriptionFigures(
        status_counts=_per_list(session, {int(k): v for k, v in value["counts"].items()}),
        days=[DayCount(date.fromisoformat(day), count) for day, count in value["days"]],
        sources=[SourceStats(*row) for row in value["sources"]],
        computed_at=cached.computed_at,
    )


def subscription_figures(session: Session) -> SubscriptionFigures:
    """Status counts, sign-ups per day and top sources: aggregates over every
    subscription, recomputed at most every DASHBOARD_CACHE_SECONDS."""
    cached = aggregate_cache.fresh(session, SUBSCRIPTION_FIGURES, _subscription_aggregates,
                                   current_app.config["DASHBOARD_CACHE_SECONDS"])
    return _figures(session, cached)


def refresh_subscription_figures(session: Session) -> SubscriptionFigures:
    """Recompute them now (the worker's schedule, or `flask maintenance refresh-dashboard`)."""
    return _figures(session, aggregate_cache.refresh(session, SUBSCRIPTION_FIGURES, _subscription_aggregates))
