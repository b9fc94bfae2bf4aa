"""Erasure: remove a person's data, and recognise an erased address without storing it."""

from collections.abc import Collection

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from models import ConsentAction, ConsentEvent, Enrollment, OutboxMessage, Subscriber, Subscription
from models.base import utcnow
from models.privacy import ErasureTombstone
from services.core import audit
from services.core.address_hash import address_hash
from services.core.audit import Actor
from services.core.transactions import insert_unless_exists, write_transaction
from services.courses import enrollments
from services.mail import suppression
from services.privacy import personal_data
from services.privacy.personal_data import Holdings
from services.subscriptions import consent
from services.subscriptions.consent import ConsentOrigin


def is_erased(session: Session, email: str) -> bool:
    return session.scalar(
        select(ErasureTombstone.id).where(ErasureTombstone.address_hash == address_hash(email))
    ) is not None


def erase(actor: Actor, subscriber_ids: Collection[int], origin_form: str = "admin") -> int:
    """Erase these subscribers and their course enrolments; return how many were erased.

    Staff erase with their own Actor; a reader erasing themselves uses erase_address.
    """
    with write_transaction() as session:
        subscribers = session.scalars(
            select(Subscriber).where(Subscriber.id.in_(list(subscriber_ids)))
            .order_by(Subscriber.id).with_for_update()
        ).all()
        # Every cohort involved is locked before any is changed: one lock order, no deadlocks.
        enrolled = personal_data.enrollments_of(session, [s.email for s in subscribers], lock=True)
        for subscriber in subscribers:
            address = subscriber.email.lower()
            _erase_one(session, Holdings(subscriber.email, subscriber,
                                         [e for e in enrolled if e.email.lower() == address]),
                       actor, origin_form)
    return len(subscribers)


def erase_address(actor: Actor, email: str, origin_form: str) -> bool:
    """Erase everything held about an address (subscriber, enrolments or both);
    False if nothing was held."""
    with write_transaction() as session:
        held = personal_data.find(session, email, lock=True)
        if held.empty:
            return False
        _erase_one(session, held, actor, origin_form)
    return True


def _erase_one(session: Session, held: Holdings, actor: Actor, origin_form: str) -> None:
    """The subscriber row, its subscriptions and enrolments go, and so does mail to the
    address still in the outbox. Enrolments are cancelled first, so a seat goes to the
    next person on the waitlist. Consent events keep their action and time (proof of
    what happened) but lose the link to the person, IP and user agent. A tombstone
    keeps a keyed hash of the address so an import does not bring the person back; a
    suppression of the address keeps only that hash too, so it is still never mailed."""
    hashed = address_hash(held.email)
    origin = ConsentOrigin(form=origin_form)
    cancelled = [e.id for e in held.enrollments if enrollments.release_place(session, e, origin)]
    enrollment_ids = [e.id for e in held.enrollments]
    theirs: list[ColumnElement[bool]] = [ConsentEvent.enrollment_id.in_(enrollment_ids)]
    if held.subscriber is not None:
        theirs.append(ConsentEvent.subscriber_id == held.subscriber.id)
    session.execute(
        update(ConsentEvent).where(or_(*theirs))
        .values(subscriber_id=None, enrollment_id=None, ip=None, user_agent=None)
    )
    session.execute(delete(OutboxMessage).where(func.lower(OutboxMessage.recipient) == held.email.lower()))
    suppression.forget_address(session, held.email, hashed)
    # Cancelled rows hold no seat or waitlist place, so nothing needs them once the seat is freed.
    session.execute(delete(Enrollment).where(Enrollment.id.in_(enrollment_ids)))
    if held.subscriber is not None:
        session.execute(delete(Subscription).where(Subscription.subscriber_id == held.subscriber.id))
        session.execute(delete(Subscriber).where(Subscriber.id == held.subscriber.id))
    insert_unless_exists(session, ErasureTombstone, address_hash=hashed, erased_at=utcnow())
    consent.record(session, ConsentAction.ERASED, origin, subscriber_id=None)
    subscriber_id = held.subscriber.id if held.subscriber is not None else None
    audit.record(session, actor, "subscriber.erase" if subscriber_id else "enrollments.erase",
                 target=f"subscriber:{subscriber_id}" if subscriber_id else None,
                 details={"address_hash": hashed, "enrollments": enrollment_ids,
                          "enrollments_cancelled": cancelled})
