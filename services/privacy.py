"""Erasure: remove a person's data, and recognise an erased address without storing it."""

import hashlib
import hmac
from collections.abc import Collection

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from models import ConsentAction, ConsentEvent, OutboxMessage, Subscriber, Subscription
from models.privacy import ErasureTombstone
from services import audit, consent
from services.audit import Actor
from services.consent import ConsentOrigin
from services.transactions import write_transaction


def address_hash(email: str) -> str:
    # A dedicated key, so rotating SECRET_KEY does not forget who was erased.
    key = current_app.config["TOMBSTONE_KEY"].encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def is_erased(session: Session, email: str) -> bool:
    return session.scalar(
        select(ErasureTombstone.id).where(ErasureTombstone.address_hash == address_hash(email))
    ) is not None


def erase(actor: Actor, subscriber_ids: Collection[int], origin_form: str = "admin") -> int:
    """Remove these subscribers' personal data; return how many were erased.

    The subscriber row and its subscriptions go, and so does mail to the address
    still in the outbox. Consent events keep their action and time (proof of what
    happened) but lose the link, IP and user agent. A tombstone keeps a keyed hash
    of the address so an import does not bring the person back. Staff erase with
    their own Actor; a reader erasing themselves passes theirs and `origin_form`.
    """
    with write_transaction() as session:
        subscribers = session.scalars(
            select(Subscriber).where(Subscriber.id.in_(list(subscriber_ids)))
            .order_by(Subscriber.id).with_for_update()
        ).all()
        for subscriber in subscribers:
            _erase_one(session, subscriber, actor, origin_form)
    return len(subscribers)


def _erase_one(session: Session, subscriber: Subscriber, actor: Actor, origin_form: str) -> None:
    hashed = address_hash(subscriber.email)
    session.execute(
        update(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber.id)
        .values(subscriber_id=None, ip=None, user_agent=None)
    )
    session.execute(
        delete(OutboxMessage).where(func.lower(OutboxMessage.recipient) == subscriber.email.lower())
    )
    session.execute(delete(Subscription).where(Subscription.subscriber_id == subscriber.id))
    session.execute(delete(Subscriber).where(Subscriber.id == subscriber.id))
    # The subscriber's row lock serialises erasures of this address, so the check is safe.
    if not is_erased(session, subscriber.email):
        session.add(ErasureTombstone(address_hash=hashed))
    consent.record(session, ConsentAction.ERASED, ConsentOrigin(form=origin_form), subscriber_id=None)
    audit.record(session, actor, "subscriber.erase", target=f"subscriber:{subscriber.id}",
                 details={"address_hash": hashed})
