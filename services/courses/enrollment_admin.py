"""Staff act on enrolments: give a waitlisted person a seat (over capacity only by
an owner's override with a reason), move someone back to the waitlist, record
payment, cancel. Seats and the waitlist change exactly as in services.courses.enrollments,
under the same locks; every change is audited."""

from collections.abc import Callable

from flask_babel import lazy_gettext
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from models import Enrollment, EnrollmentStatus
from models.base import utcnow
from services.core import audit
from services.core.audit import Actor
from services.core.errors import Closed, InvalidInput, NotFound
from services.core.lookup import get_or_raise
from services.core.transactions import write_transaction
from services.core.validation import clean_text
from services.courses import enrollments
from services.staff import staff
from services.subscriptions.consent import STAFF_FORM, ConsentOrigin

OVERRIDE_REASON_MAX_LENGTH = 500
LISTING_ORDER = case(
    {EnrollmentStatus.CONFIRMED: 0, EnrollmentStatus.WAITLISTED: 1, EnrollmentStatus.PENDING: 2},
    value=Enrollment.status, else_=3)


def cohort_enrollments(session: Session, cohort_id: int) -> list[Enrollment]:
    """Seated first, then the waitlist in order, then pending and cancelled requests."""
    return list(session.scalars(
        select(Enrollment).where(Enrollment.cohort_id == cohort_id)
        .order_by(LISTING_ORDER, Enrollment.waitlist_position, Enrollment.created_at, Enrollment.id)))


def _change(actor: Actor, enrollment_id: int, action: str, change: Callable[[Session, Enrollment], dict]) -> None:
    """Lock the cohort and the enrolment (in the enrolment service's order), apply
    `change`, and audit it with the details it returns."""
    with write_transaction() as session:
        enrollment = enrollments.lock_for_change(session, enrollment_id)
        if enrollment is None:
            raise NotFound("No such enrolment.")
        details = change(session, enrollment)
        audit.record(session, actor, action, target=f"enrollment:{enrollment.id}",
                     details={"cohort": enrollment.cohort_id, "email": enrollment.email, **details})


def _require_status(enrollment: Enrollment, status: EnrollmentStatus, doing: str) -> None:
    if enrollment.status != status:
        raise Closed(f"Only a {status.value} enrolment can be {doing}; this one is {enrollment.status.value}.")


def give_seat(actor: Actor, enrollment_id: int, override_reason: str | None = None) -> None:
    """Waitlisted → confirmed, taking a free seat. With an override reason (owners
    only) a full cohort gets one more seat beyond its capacity."""
    reason = clean_text(override_reason, field="reason", label="The reason",
                        max_length=OVERRIDE_REASON_MAX_LENGTH, multiline=True)
    if override_reason is not None and not reason:
        raise InvalidInput("reason", "Give the reason for going over capacity; it is kept in the audit log.")

    def seat(session: Session, enrollment: Enrollment) -> dict:
        _require_status(enrollment, EnrollmentStatus.WAITLISTED, "given a seat")
        cohort = enrollment.cohort
        over_capacity = not enrollments.take_seat(session, cohort)
        if over_capacity and not reason:
            raise Closed(f"{cohort.label} is full ({cohort.capacity} seats). An owner can override the "
                         "capacity with a reason.")
        if over_capacity:
            staff.require_owner(session, actor, "Only owners can book a cohort over its capacity.")
            enrollments.take_seat_over_capacity(session, cohort)
        position = enrollment.waitlist_position
        enrollments.leave_waitlist_for_seat(session, enrollment)
        enrollments.send_seat_mail(session, enrollment, "enrollment_promoted",
                                   lazy_gettext("A seat is yours: %(course)s", course=cohort.course.title),
                                   given_by_staff=True)
        return {"from_waitlist_position": position, "over_capacity": over_capacity,
                **({"reason": reason} if over_capacity else {})}

    _change(actor, enrollment_id, "enrollment.seat", seat)


def move_to_waitlist(actor: Actor, enrollment_id: int) -> None:
    """Confirmed → the end of the waitlist. The seat it frees goes to the first
    person already waiting (mailed as when someone cancels), never back to them."""

    def requeue(session: Session, enrollment: Enrollment) -> dict:
        _require_status(enrollment, EnrollmentStatus.CONFIRMED, "moved to the waitlist")
        cohort = enrollment.cohort
        enrollments.free_seat(session, cohort)
        promoted = enrollments.promote_next(session, cohort)
        enrollment.status = EnrollmentStatus.WAITLISTED
        enrollment.waitlist_position = enrollments.next_waitlist_position(session, cohort)
        enrollment.status_changed_at = utcnow()
        enrollments.send_mail(session, enrollment, "enrollment_waitlisted",
                              lazy_gettext("You're on the waitlist for %(course)s", course=cohort.course.title),
                              waitlist_position=enrollment.waitlist_position, moved_by_staff=True)
        return {"waitlist_position": enrollment.waitlist_position, "promoted_next": promoted}

    _change(actor, enrollment_id, "enrollment.to_waitlist", requeue)


def set_paid(actor: Actor, enrollment_id: int, paid: bool) -> None:
    """Record (or withdraw, for a mistake) that this person has paid, and who said so."""

    def mark(session: Session, enrollment: Enrollment) -> dict:
        if paid and enrollment.paid_at is not None:
            raise Closed("This enrolment is already marked paid.")
        if not paid and enrollment.paid_at is None:
            raise Closed("This enrolment is not marked paid.")
        enrollment.paid_at, enrollment.paid_by = (utcnow(), actor.label) if paid else (None, None)
        return {}

    _change(actor, enrollment_id, "enrollment.paid" if paid else "enrollment.unpaid", mark)


def cancel(actor: Actor, enrollment_id: int) -> None:
    """As when the person cancels: the seat or waitlist place is freed, the next
    person promoted and mailed, and the person told."""

    def cancel_it(session: Session, enrollment: Enrollment) -> dict:
        if enrollment.status == EnrollmentStatus.CANCELLED:
            raise Closed("This enrolment is already cancelled.")
        previous = enrollment.status
        enrollments.cancel_locked(session, enrollment, ConsentOrigin(form=STAFF_FORM))
        return {"previous_status": previous.value}

    _change(actor, enrollment_id, "enrollment.cancel", cancel_it)


def get_enrollment(session: Session, enrollment_id: int) -> Enrollment:
    enrollment = get_or_raise(session, Enrollment, enrollment_id, "No such enrolment.")
    return enrollment
