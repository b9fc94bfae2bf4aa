"""Staff handling of mail that could not be sent: look, retry, discard."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import OutboxMessage, OutboxStatus
from models.base import utcnow
from services.core import audit
from services.core.audit import Actor
from services.core.errors import InvalidInput
from services.core.lookup import get_or_raise
from services.core.pagination import Page, keyset_page
from services.core.transactions import write_transaction

# A message being sent (or sent) belongs to the worker; staff act on the others.
ACTIONABLE = (OutboxStatus.FAILED, OutboxStatus.QUEUED)


def waiting_messages(session: Session, status: OutboxStatus | None = None,
                     cursor: str | None = None) -> Page:
    """Failed and queued messages, newest first (one status if given)."""
    statuses = [status] if status in ACTIONABLE else list(ACTIONABLE)
    return keyset_page(session, select(OutboxMessage).where(OutboxMessage.status.in_(statuses)),
                       (OutboxMessage.id,), cursor, key_of=lambda m: (m.id,))


def _actionable(session: Session, message_id: int) -> OutboxMessage:
    message = get_or_raise(session, OutboxMessage, message_id, "No such message.", for_update=True)
    if message.status not in ACTIONABLE:
        raise InvalidInput("message", f"This message is {message.status.value}; only failed "
                                      "or queued messages can be retried or discarded.")
    return message


def retry(actor: Actor, message_id: int) -> None:
    """Queue the message for the next worker pass, with a fresh set of attempts."""
    with write_transaction() as session:
        message = _actionable(session, message_id)
        before = {"status": message.status.value, "attempts": message.attempts}
        message.status = OutboxStatus.QUEUED
        message.attempts = 0
        message.next_attempt_at = utcnow()
        message.locked_until = None
        audit.record(session, actor, "outbox.retry", target=f"outbox:{message.id}",
                     details={**before, "subject": message.subject})


def discard(actor: Actor, message_id: int) -> None:
    with write_transaction() as session:
        message = _actionable(session, message_id)
        audit.record(session, actor, "outbox.discard", target=f"outbox:{message.id}",
                     details={"status": message.status.value, "subject": message.subject,
                              "last_error": (message.last_error or "")[:300]})
        session.delete(message)


def newest_mail(session: Session, limit: int = 50) -> list[OutboxMessage]:
    """The latest mails of every kind and state, newest first (the development mailbox)."""
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))
