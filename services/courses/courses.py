"""The course catalogue: what is published and which cohorts take enrolments;
the rules for a course's and a cohort's fields, and creating them (CLI and console)."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo, available_timezones

import markdown
import nh3
from babel.dates import format_date
from flask_babel import gettext, ngettext
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models import Cohort, Course, CourseFormat
from models.base import utcnow
from services.core import audit
from services.core.errors import InvalidInput, NotFound
from services.core.languages import formatting_locale
from services.core.money import clean_currency, format_fee, parse_fee
from services.core.transactions import write_transaction
from services.core.validation import clean_text, normalise_email

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_DURATION_WEEKS = 104


class EnrolmentState(StrEnum):
    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    CLOSED = "closed"  # the window has passed, or the cohort has started


def long_date(day: date) -> str:
    """The day as the current language writes it in full (Monday 2 March 2026, lundi 2 mars 2026)."""
    return format_date(day, format="full", locale=formatting_locale())


def cohort_starts_at(cohort: Cohort) -> datetime:
    """Midnight at the start of `starts_on` in the cohort's timezone."""
    return datetime.combine(cohort.starts_on, time.min, ZoneInfo(cohort.timezone))


def has_started(cohort: Cohort, now: datetime | None = None) -> bool:
    return (now or utcnow()) >= cohort_starts_at(cohort)


def enrolment_state(cohort: Cohort, now: datetime | None = None) -> EnrolmentState:
    now = now or utcnow()
    if now >= cohort.enrolment_closes_at or has_started(cohort, now):
        return EnrolmentState.CLOSED
    if now < cohort.enrolment_opens_at:
        return EnrolmentState.NOT_YET_OPEN
    return EnrolmentState.OPEN


def closed_message(cohort: Cohort, now: datetime | None = None) -> str | None:
    """Why `cohort` takes no enrolment now, in words for the reader; None when it does."""
    state = enrolment_state(cohort, now)
    if state is EnrolmentState.OPEN:
        return None
    if state is EnrolmentState.NOT_YET_OPEN:
        opens = cohort.enrolment_opens_at.astimezone(ZoneInfo(cohort.timezone)).date()
        return gettext("Enrolment for %(cohort)s opens on %(date)s.", cohort=cohort.label, date=long_date(opens))
    if has_started(cohort, now):
        return gettext("%(cohort)s has already started, so it no longer takes enrolments.", cohort=cohort.label)
    return gettext("Enrolment for %(cohort)s has closed.", cohort=cohort.label)


@dataclass(frozen=True)
class CohortAvailability:
    cohort: Cohort
    state: EnrolmentState
    seats_left: int | None  # None: no seat limit

    @property
    def is_open(self) -> bool:
        return self.state is EnrolmentState.OPEN

    @property
    def label(self) -> str:
        if self.state is EnrolmentState.NOT_YET_OPEN:
            opens = self.cohort.enrolment_opens_at.astimezone(ZoneInfo(self.cohort.timezone)).date()
            return gettext("Enrolment opens %(date)s", date=long_date(opens))
        if self.state is EnrolmentState.CLOSED:
            return gettext("Enrolment closed")
        if self.seats_left is None:
            return gettext("Places available")
        if self.seats_left == 0:
            return gettext("Waitlist open")
        return ngettext("%(num)d seat left", "%(num)d seats left", self.seats_left)


def availability(cohort: Cohort, now: datetime | None = None) -> CohortAvailability:
    seats_left = None if cohort.capacity is None else max(cohort.capacity - cohort.seats_taken, 0)
    return CohortAvailability(cohort, enrolment_state(cohort, now), seats_left)


def upcoming_cohorts(course: Course, now: datetime | None = None) -> list[CohortAvailability]:
    """Cohorts that have not started, soonest first."""
    now = now or utcnow()
    return [availability(c, now) for c in course.cohorts if not has_started(c, now)]


def open_cohorts(course: Course, now: datetime | None = None) -> list[CohortAvailability]:
    return [a for a in upcoming_cohorts(course, now) if a.is_open]


@dataclass(frozen=True)
class CourseListing:
    course: Course
    next_cohort: CohortAvailability | None

    @property
    def fee(self) -> str:
        return fee_label(self.course)


def published_courses(session: Session) -> list[CourseListing]:
    courses = session.scalars(
        select(Course).where(Course.is_published).options(selectinload(Course.cohorts)).order_by(Course.title)
    )
    now = utcnow()
    return [CourseListing(course, next(iter(upcoming_cohorts(course, now)), None)) for course in courses]


def published_course(session: Session, slug: str) -> Course:
    course = session.scalar(select(Course).where(Course.slug == slug, Course.is_published))
    if course is None:
        raise NotFound(gettext("There is no such course."))
    return course


def fee_label(course: Course) -> str:
    return format_fee(course.fee_minor, course.currency)


def description_html(course: Course) -> Markup:
    """The Markdown description as HTML, with anything unsafe removed."""
    return Markup(nh3.clean(markdown.markdown(course.description)))  # noqa: S704  (sanitised by nh3)


@dataclass(frozen=True)
class CourseFields:
    """A course as typed (command-line options or the console's form), before cleaning.
    Errors name the field as the CLI option and the form field do."""

    slug: str | None
    title: str | None
    contact_email: str | None
    duration_weeks: int | None
    summary: str | None = ""
    description: str | None = ""
    course_format: str = CourseFormat.ONLINE
    fee: str | None = "0"
    currency: str | None = "EUR"
    published: bool = False


def course_values(fields: CourseFields) -> dict:
    """The cleaned column values of a course."""
    slug = (fields.slug or "").strip()
    if not SLUG_PATTERN.fullmatch(slug) or len(slug) > 80:
        raise InvalidInput("slug", "A slug is 1 to 80 lower-case letters, digits and single hyphens.")
    title = clean_text(fields.title, field="title", label="Title", max_length=200)
    if not title:
        raise InvalidInput("title", "Give the course a title.")
    if fields.course_format not in set(CourseFormat):
        raise InvalidInput("format", f"The format is one of: {', '.join(CourseFormat)}.")
    if fields.duration_weeks is None or not 1 <= fields.duration_weeks <= MAX_DURATION_WEEKS:
        raise InvalidInput("weeks", f"The duration is 1 to {MAX_DURATION_WEEKS} weeks.")
    currency = clean_currency(fields.currency)
    try:
        contact_email = normalise_email(fields.contact_email)
    except InvalidInput as error:
        raise InvalidInput("contact", error.message) from None
    return {
        "slug": slug, "title": title,
        "summary": clean_text(fields.summary, field="summary", label="Summary", max_length=500),
        "description": clean_text(fields.description, field="description", label="Description",
                                  max_length=20_000, multiline=True),
        "format": CourseFormat(fields.course_format), "duration_weeks": fields.duration_weeks,
        "fee_minor": parse_fee(fields.fee, currency), "currency": currency,
        "contact_email": contact_email, "is_published": bool(fields.published),
    }


def flush_unique_slug(session: Session, slug: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise InvalidInput("slug", f"A course with the slug {slug!r} already exists.") from None


def create_course(fields: CourseFields, actor: audit.Actor = audit.CLI) -> Course:
    course = Course(**course_values(fields))
    with write_transaction() as session:
        session.add(course)
        flush_unique_slug(session, course.slug)
        audit.record(session, actor, "course.create", target=course.slug)
    return course


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@dataclass(frozen=True)
class CohortFields:
    """A cohort as typed. Naive opening and closing times are read in the cohort's
    timezone; by default enrolment opens now and closes when the cohort starts."""

    label: str | None
    starts_on: date | None
    ends_on: date | None
    enrolment_opens_at: datetime | None = None
    enrolment_closes_at: datetime | None = None
    capacity: int | None = None  # None: unlimited
    timezone: str | None = "UTC"


def cohort_values(fields: CohortFields) -> dict:
    """The cleaned column values of a cohort (all but its seat counts)."""
    timezone = (fields.timezone or "").strip()
    if timezone not in available_timezones():
        raise InvalidInput("timezone", "Give an IANA timezone such as Europe/London or UTC.")
    zone = ZoneInfo(timezone)
    label = clean_text(fields.label, field="label", label="Label", max_length=120)
    if not label:
        raise InvalidInput("label", "Give the cohort a label, e.g. 'Spring 2027'.")
    if fields.starts_on is None:
        raise InvalidInput("starts", "Give the first day of the cohort.")
    if fields.ends_on is None:
        raise InvalidInput("ends", "Give the last day of the cohort.")
    if fields.ends_on < fields.starts_on:
        raise InvalidInput("ends", "The cohort cannot end before it starts.")
    if fields.capacity is not None and fields.capacity < 1:
        raise InvalidInput("capacity", "Capacity is at least 1 (or leave it unlimited).")
    opens = _aware(fields.enrolment_opens_at or utcnow(), zone)
    closes = _aware(fields.enrolment_closes_at or datetime.combine(fields.starts_on, time.min, zone), zone)
    if closes <= opens:
        raise InvalidInput("closes", "Enrolment must close after it opens.")
    return {"label": label, "starts_on": fields.starts_on, "ends_on": fields.ends_on,
            "enrolment_opens_at": opens, "enrolment_closes_at": closes,
            "capacity": fields.capacity, "timezone": timezone}


def create_cohort(course_slug: str, fields: CohortFields, actor: audit.Actor = audit.CLI) -> Cohort:
    values = cohort_values(fields)
    with write_transaction() as session:
        course = session.scalar(select(Course).where(Course.slug == course_slug))
        if course is None:
            raise InvalidInput("course", f"There is no course with the slug {course_slug!r}.")
        cohort = Cohort(course=course, **values, seats_taken=0, seats_over_capacity=0)
        session.add(cohort)
        session.flush()
        audit.record(session, actor, "cohort.create", target=f"{course_slug}/{cohort.id}",
                     details={"label": cohort.label, "starts_on": cohort.starts_on.isoformat(),
                              "capacity": cohort.capacity})
    return cohort
