"""Enrolment: a request confirmed by mail (double opt-in), then a seat or a place on
the waitlist; cancellation frees the seat and promotes the next person in line.

Locking: everything that changes a cohort's seats or waitlist locks the cohort row
first and the enrolment rows after it (PostgreSQL; SQLite's BEGIN IMMEDIATE
serialises every writer). So confirmations for one cohort take turns, in
arrival order, and waitlist numbers are handed out one at a time. The seat itself
is taken by one conditional UPDATE, which cannot exceed capacity on its own.
"""

import dataclasses
import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import LazyString, gettext, lazy_gettext
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import Cohort, ConsentAction, Enrollment, EnrollmentStatus
from models.base import utcnow
from services.core.errors import Closed, DomainError, InvalidInput, InvalidToken
from services.core.languages import DEFAULT_LANGUAGE, in_language
from services.core.links import external_url
from services.core.tokens import Purpose, RowLink, issued_before, make_row_token, read_row_token
from services.core.transactions import insert_unless_exists, read_session, rows_changed, write_transaction
from services.courses.calendar_invite import cohort_start_attachment
from services.courses.courses import closed_message, has_started, long_date, published_course
from services.courses.enrollment_details import (
    CHOOSE_A_COHORT,
    EnrollmentDetails,
    EnrollmentInput,
    clean_details,
    cohort_id,
)
from services.mail import opt_in_throttle, outbox
from services.subscriptions import consent, subscriptions
from services.subscriptions.consent import CURRENT_ENROLL_NEWSLETTER_WORDING, ConsentOrigin

log = logging.getLogger(__name__)
HOLDING_A_PLACE = (EnrollmentStatus.CONFIRMED, EnrollmentStatus.WAITLISTED)


@dataclass(frozen=True)
class EnrollmentOutcome:
    status: EnrollmentStatus
    waitlist_position: int | None
    course_title: str
    course_slug: str
    cohort_label: str
    starts_on: str
    unchanged: bool = False  # the link had already done its work


def _outcome(enrollment: Enrollment, *, unchanged: bool = False) -> EnrollmentOutcome:
    cohort = enrollment.cohort
    return EnrollmentOutcome(enrollment.status, enrollment.waitlist_position, cohort.course.title,
                             cohort.course.slug, cohort.label, long_date(cohort.starts_on), unchanged)


def _link(endpoint: str, purpose: Purpose, enrollment: Enrollment) -> str:
    return external_url(endpoint, token=make_row_token(purpose, enrollment.id, enrollment.link_key))


def stop_course_mail_url(enrollment: Enrollment) -> str:
    """One-click List-Unsubscribe: stops optional mail about an enrolment, never cancels it."""
    return _link("courses.stop_mail_post", Purpose.STOP_COURSE_MAIL, enrollment)


def _read_link(purpose: Purpose, token: str) -> RowLink:
    """The enrolment a link names; confirm links expire, the others do not."""
    max_age = current_app.config["CONFIRM_TOKEN_MAX_AGE"] if purpose is Purpose.CONFIRM_ENROLLMENT else None
    return read_row_token(purpose, token, max_age=max_age)


def describe(purpose: Purpose, token: str) -> EnrollmentOutcome:
    """The enrolment a mailed link names, for the page a GET of the link shows."""
    link = _read_link(purpose, token)
    return _outcome(link.check(read_session().get(Enrollment, link.row_id)))


# -- mail -----------------------------------------------------------------------

def send_mail(session: Session, enrollment: Enrollment, template: str, subject: LazyString, *,
          category: str = outbox.TRANSACTIONAL, attachments: list[dict] | None = None, **context) -> None:
    """Queue an enrolment's mail in the language the reader enrolled in (`subject` is worded there)."""
    with in_language(enrollment.language):
        _enqueue(session, enrollment, template, str(subject), category, attachments, context)


def _enqueue(session: Session, enrollment: Enrollment, template: str, subject: str, category: str,
             attachments: list[dict] | None, context: dict) -> None:
    cohort = enrollment.cohort
    course = cohort.course
    outbox.enqueue(
        session, template=template, subject=subject, category=category,
        recipient=enrollment.email, recipient_name=enrollment.full_name,
        unsubscribe_url=stop_course_mail_url(enrollment),
        attachments=attachments,
        context={
            "course_title": course.title, "cohort_label": cohort.label,
            "starts_on": long_date(cohort.starts_on), "ends_on": long_date(cohort.ends_on),
            "contact_email": course.contact_email,
            "course_url": external_url("courses.detail", slug=course.slug),
            "cancel_url": _link("courses.cancel", Purpose.CANCEL_ENROLLMENT, enrollment),
            **context,
        },
    )


def send_seat_mail(session: Session, enrollment: Enrollment, template: str, subject: LazyString, **context) -> None:
    with in_language(enrollment.language):
        invite = cohort_start_attachment(enrollment, current_app.config["SITE_NAME"])
    send_mail(session, enrollment, template, subject, attachments=[invite], **context)


def _answer_request(session: Session, enrollment: Enrollment) -> None:
    """The mail a request causes; throttled, because anyone can type an address."""
    title = enrollment.cohort.course.title
    if enrollment.status in HOLDING_A_PLACE:
        if enrollment.optional_mail_stopped_at is not None:
            return
        template, subject = "enrollment_already", lazy_gettext("You're already enrolled in %(course)s", course=title)
    else:
        template = "enrollment_confirm"
        subject = lazy_gettext("Please confirm your enrolment in %(course)s", course=title)
    if not opt_in_throttle.allows(session, enrollment.email, opt_in_throttle.COURSE_OPT_IN):
        return
    send_mail(session, enrollment, template, subject, category=opt_in_throttle.COURSE_OPT_IN,
          confirm_url=_link("courses.confirm", Purpose.CONFIRM_ENROLLMENT, enrollment),
          waitlist_position=enrollment.waitlist_position)


# -- enrol ----------------------------------------------------------------------

def _lock_or_create(session: Session, cohort: Cohort, details: EnrollmentDetails) -> Enrollment:
    now = utcnow()
    created = insert_unless_exists(session, Enrollment, cohort_id=cohort.id, **dataclasses.asdict(details),
                                   status=EnrollmentStatus.PENDING, created_at=now, requested_at=now,
                                   status_changed_at=now)
    enrollment = session.scalars(  # one row: inserted just now, or already there
        select(Enrollment).where(Enrollment.cohort_id == cohort.id,
                                 func.lower(Enrollment.email) == details.email.lower()).with_for_update()
    ).one()
    if not created and enrollment.status not in HOLDING_A_PLACE:
        # A pending or cancelled request is renewed with what was typed this time.
        for name, value in dataclasses.asdict(details).items():
            setattr(enrollment, name, value)
        enrollment.status = EnrollmentStatus.PENDING
        enrollment.requested_at = enrollment.status_changed_at = now
    return enrollment


def enroll(course_slug: str, form: EnrollmentInput, origin: ConsentOrigin) -> None:
    """Request a place. Returns nothing: the answer is the same whatever the address's state."""
    details = clean_details(form)
    wanted_cohort = cohort_id(form.cohort)
    with write_transaction() as session:
        course = published_course(session, course_slug)
        cohort = session.get(Cohort, wanted_cohort)
        if cohort is None or cohort.course_id != course.id:
            raise InvalidInput("cohort", str(CHOOSE_A_COHORT))
        refusal = closed_message(cohort)
        if refusal:
            raise InvalidInput("cohort", refusal)
        enrollment = _lock_or_create(session, cohort, details)
        if enrollment.status == EnrollmentStatus.PENDING:
            consent.record(session, ConsentAction.ENROLL_REQUESTED, origin,
                           subscriber_id=None, enrollment_id=enrollment.id)
        _answer_request(session, enrollment)
    if form.newsletter:
        _join_newsletter(details, origin)


def _join_newsletter(details: EnrollmentDetails, origin: ConsentOrigin) -> None:
    """The newsletter's own double opt-in, after the enrolment has committed whole."""
    try:
        version, _ = consent.shown_wording(CURRENT_ENROLL_NEWSLETTER_WORDING, details.language or DEFAULT_LANGUAGE)
        subscriptions.subscribe(details.email, details.full_name, dataclasses.replace(origin, wording_version=version),
                                language=details.language)
    except (DomainError, SQLAlchemyError):
        # The enrolment stands on its own; the reader can subscribe from any page.
        log.exception("newsletter sign-up from the enrolment form failed")


# -- seats and the waitlist -----------------------------------------------------

def lock_for_change(session: Session, enrollment_id: int) -> Enrollment | None:
    cohort_id_ = session.scalar(select(Enrollment.cohort_id).where(Enrollment.id == enrollment_id))
    if cohort_id_ is None:
        return None
    # The cohort before any enrolment row, on every path: one lock order, no deadlocks.
    session.get(Cohort, cohort_id_, with_for_update=True)
    return session.get(Enrollment, enrollment_id, with_for_update=True, populate_existing=True)


def take_seat(session: Session, cohort: Cohort) -> bool:
    taken = rows_changed(
        session,
        update(Cohort)
        .where(Cohort.id == cohort.id, or_(Cohort.capacity.is_(None), Cohort.seats_taken < Cohort.capacity))
        .values(seats_taken=Cohort.seats_taken + 1)
        .execution_options(synchronize_session=False),
    ) == 1
    session.expire(cohort, ["seats_taken"])
    return taken


def take_seat_over_capacity(session: Session, cohort: Cohort) -> None:
    """A staff override: one more seat, held beyond capacity."""
    session.execute(
        update(Cohort).where(Cohort.id == cohort.id).values(seats_over_capacity=Cohort.seats_over_capacity + 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(cohort, ["seats_over_capacity"])


def free_seat(session: Session, cohort: Cohort) -> None:
    """A seat held over capacity is given up first: a cohort overbooked by staff
    returns to its capacity before anyone else gets a seat."""
    over = Cohort.seats_over_capacity > 0
    session.execute(
        update(Cohort).where(Cohort.id == cohort.id)
        .values(seats_over_capacity=case((over, Cohort.seats_over_capacity - 1), else_=Cohort.seats_over_capacity),
                seats_taken=case((over, Cohort.seats_taken), else_=Cohort.seats_taken - 1))
        .execution_options(synchronize_session=False)
    )
    session.expire(cohort, ["seats_taken", "seats_over_capacity"])


def next_waitlist_position(session: Session, cohort: Cohort) -> int:
    last = session.scalar(
        select(func.max(Enrollment.waitlist_position))
        .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.WAITLISTED)
    )
    return (last or 0) + 1


def close_gap(session: Session, cohort: Cohort, vacated: int | None) -> None:
    """Move up everyone behind the place `vacated` (None: no place in line, no gap)."""
    if vacated is None:
        return
    session.execute(
        update(Enrollment)
        .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.WAITLISTED,
               Enrollment.waitlist_position > vacated)
        .values(waitlist_position=Enrollment.waitlist_position - 1)
        .execution_options(synchronize_session="fetch")
    )


def promote_next(session: Session, cohort: Cohort) -> bool:
    """Give a free seat to the first person on the waitlist; whether anyone got one."""
    if has_started(cohort):
        return False  # a seat freed once the course runs is not handed out automatically
    first = session.scalar(
        select(Enrollment)
        .where(Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.WAITLISTED)
        .order_by(Enrollment.waitlist_position).limit(1).with_for_update()
    )
    if first is None or not take_seat(session, cohort):
        return False
    leave_waitlist_for_seat(session, first)
    send_seat_mail(session, first, "enrollment_promoted",
                   lazy_gettext("A seat is yours: %(course)s", course=cohort.course.title))
    return True


def leave_waitlist_for_seat(session: Session, enrollment: Enrollment) -> None:
    """A waitlisted enrolment that has just been given a seat leaves the line."""
    vacated = enrollment.waitlist_position
    enrollment.status = EnrollmentStatus.CONFIRMED
    enrollment.waitlist_position = None
    enrollment.status_changed_at = utcnow()
    close_gap(session, enrollment.cohort, vacated)


def confirm(token: str, origin: ConsentOrigin) -> EnrollmentOutcome:
    """Confirm the address: a seat if one is free, otherwise the next place in line."""
    link = _read_link(Purpose.CONFIRM_ENROLLMENT, token)
    with write_transaction() as session:
        enrollment = link.check(lock_for_change(session, link.row_id))
        if enrollment.status in HOLDING_A_PLACE:
            return _outcome(enrollment, unchanged=True)
        if enrollment.status == EnrollmentStatus.CANCELLED or issued_before(link.issued_at, enrollment.cancelled_at):
            raise InvalidToken(gettext("This enrolment was cancelled after this link was sent."))
        cohort = enrollment.cohort
        if has_started(cohort):
            raise Closed(gettext("%(cohort)s has already started, so this enrolment can no longer be confirmed.",
                                 cohort=cohort.label))
        now = utcnow()
        enrollment.confirmed_at = enrollment.status_changed_at = now
        consent.record(session, ConsentAction.ENROLLMENT_CONFIRMED, origin,
                       subscriber_id=None, enrollment_id=enrollment.id)
        title = cohort.course.title
        if take_seat(session, cohort):
            enrollment.status = EnrollmentStatus.CONFIRMED
            send_seat_mail(session, enrollment, "enrollment_confirmed",
                           lazy_gettext("You're enrolled: %(course)s", course=title))
        else:
            enrollment.status = EnrollmentStatus.WAITLISTED
            enrollment.waitlist_position = next_waitlist_position(session, cohort)
            send_mail(session, enrollment, "enrollment_waitlisted",
                      lazy_gettext("You're on the waitlist for %(course)s", course=title),
                  waitlist_position=enrollment.waitlist_position)
        return _outcome(enrollment)


def release_place(session: Session, enrollment: Enrollment, origin: ConsentOrigin) -> bool:
    """Cancel an enrolment whose cohort and row the caller has locked, in that order.
    A freed seat goes to the first person on the waitlist, who is mailed; mail to the
    cancelled person is the caller's to send. False if it was already cancelled."""
    if enrollment.status == EnrollmentStatus.CANCELLED:
        return False
    previous_status, previous_position = enrollment.status, enrollment.waitlist_position
    enrollment.status = EnrollmentStatus.CANCELLED
    enrollment.waitlist_position = None
    enrollment.cancelled_at = enrollment.status_changed_at = utcnow()
    consent.record(session, ConsentAction.ENROLLMENT_CANCELLED, origin,
                   subscriber_id=None, enrollment_id=enrollment.id)
    cohort = enrollment.cohort
    if previous_status == EnrollmentStatus.CONFIRMED:
        free_seat(session, cohort)
        promote_next(session, cohort)
    elif previous_status == EnrollmentStatus.WAITLISTED:
        close_gap(session, cohort, previous_position)
    return True


def cancel(token: str, origin: ConsentOrigin) -> EnrollmentOutcome:
    """Cancel (idempotent). A freed seat goes to the first person on the waitlist."""
    link = _read_link(Purpose.CANCEL_ENROLLMENT, token)
    with write_transaction() as session:
        enrollment = link.check(lock_for_change(session, link.row_id))
        if not cancel_locked(session, enrollment, origin):
            return _outcome(enrollment, unchanged=True)
        return _outcome(enrollment)


def cancel_locked(session: Session, enrollment: Enrollment, origin: ConsentOrigin) -> bool:
    """Cancel an enrolment whose cohort and row the caller holds locked
    (`lock_for_change`), as `release_place` does, and tell the person."""
    if not release_place(session, enrollment, origin):
        return False
    course = enrollment.cohort.course
    send_mail(session, enrollment, "enrollment_cancelled",
              lazy_gettext("Your enrolment in %(course)s is cancelled", course=course.title),
              enroll_url=external_url("courses.enroll", slug=course.slug))
    return True


def stop_optional_mail(token: str, origin: ConsentOrigin) -> EnrollmentOutcome:
    """List-Unsubscribe: no more optional mail about this enrolment; the place is kept."""
    link = _read_link(Purpose.STOP_COURSE_MAIL, token)
    with write_transaction() as session:
        enrollment = link.check(session.get(Enrollment, link.row_id, with_for_update=True))
        unchanged = enrollment.optional_mail_stopped_at is not None
        if not unchanged:
            enrollment.optional_mail_stopped_at = utcnow()
            consent.record(session, ConsentAction.COURSE_MAIL_STOPPED, origin,
                           subscriber_id=None, enrollment_id=enrollment.id)
        return _outcome(enrollment, unchanged=unchanged)
