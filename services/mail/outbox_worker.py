"""Deliver queued mail: claim a batch, send it over one connection, record results.

Workers claim rows with FOR UPDATE SKIP LOCKED (PostgreSQL) or under SQLite's
write lock, and hold them for a lease; a worker that dies leaves its rows to be
claimed again when the lease ends. A resend keeps the row's Message-ID.
"""

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.orm import Session

from models import BounceKind, OutboxMessage, OutboxStatus
from models.base import utcnow
from services.core import publication
from services.core.transactions import claimed_ids, write_transaction
from services.mail import bounces, outbox, refusals, suppression, verp
from services.mail.mailer import ascii_domain, backend_for, build_message

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 6 * 3600


@dataclass
class DrainResult:
    sent: int = 0
    failed_attempts: int = 0
    gave_up: int = 0
    held: int = 0  # not sent: the address was suppressed after the mail was queued
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A message leased to this worker: what sending it needs (mailer.QueuedMail), and
    its id and attempts for recording the outcome."""

    id: int
    attempts: int
    message_id: str
    recipient: str
    recipient_name: str
    subject: str
    text_body: str
    html_body: str
    headers: dict[str, str]
    attachments: list[dict[str, str]]


_CLAIMED_COLUMNS = [OutboxMessage.__table__.c[column.name] for column in fields(ClaimedMessage)]


@dataclass
class Claim:
    messages: list[ClaimedMessage]  # in id order
    held: int = 0


def claim_batch(limit: int, due_by: datetime | None = None) -> Claim:
    """Lease up to `limit` messages due by `due_by` (default now) to this worker;
    those to suppressed addresses are held back instead.

    One statement: UPDATE … WHERE id IN (the ids of SELECT … FOR UPDATE SKIP LOCKED, picked
    once: transactions.claimed_ids) RETURNING."""
    config = current_app.config
    now = utcnow()
    table = OutboxMessage.__table__
    due = or_(
        and_(table.c.status == OutboxStatus.QUEUED, table.c.next_attempt_at <= (due_by or now)),
        and_(table.c.status == OutboxStatus.SENDING, table.c.locked_until < now),
    )
    leased = select(table.c.id).where(due).order_by(table.c.id).limit(limit).with_for_update(skip_locked=True)
    with write_transaction() as session:
        rows = session.execute(
            update(table).where(table.c.id.in_(claimed_ids(leased)))
            .values(status=OutboxStatus.SENDING, attempts=table.c.attempts + 1,
                    locked_until=now + timedelta(seconds=config["OUTBOX_LEASE_SECONDS"]))
            .returning(*_CLAIMED_COLUMNS)
        ).all()
        held = _hold_back_suppressed(session, rows)
    claimed = [ClaimedMessage(*row) for row in sorted(rows, key=lambda r: r.id) if row.id not in held]
    return Claim(claimed, len(held))


SUPPRESSED = "Not sent: the address was suppressed after this mail was queued."


def _hold_back_suppressed(session: Session, claimed: Sequence[Row]) -> set[int]:
    """An address suppressed after its mail was queued (a later import marked it
    cleaned), or listed only by its hash (its person was erased, then gave it again),
    is not mailed either: its rows fail, saying why. Returns their ids."""
    if not claimed:
        return set()
    erased = suppression.listed_as_erased(session, [row.recipient for row in claimed])
    return set(session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([row.id for row in claimed]),
               or_(outbox.suppressed_address(OutboxMessage.recipient),
                   OutboxMessage.id.in_([row.id for row in claimed if row.recipient in erased])))
        .values(status=OutboxStatus.FAILED, locked_until=None, last_error=SUPPRESSED)
        .returning(OutboxMessage.id)))


@dataclass(frozen=True)
class Failure:
    message_id: int
    attempts: int
    error: str
    permanent: bool = False  # refused for good (5xx): not tried again


def _record(sent_ids: list[int], failures: list[Failure], bounced: list[bounces.Bounce]) -> int:
    """Store a batch's outcome and the bounces it met; return how many messages were given up."""
    config = current_app.config
    now = utcnow()
    gave_up = 0
    with write_transaction() as session:
        for bounce in bounced:
            bounces.record(session, bounce)
        if sent_ids:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(sent_ids))
                .values(status=OutboxStatus.SENT, sent_at=now, locked_until=None, last_error=None)
            )
        for failure in failures:
            final = failure.permanent or failure.attempts >= config["OUTBOX_MAX_ATTEMPTS"]
            gave_up += final
            delay = min(config["OUTBOX_BACKOFF_SECONDS"] * 2 ** (failure.attempts - 1), MAX_BACKOFF_SECONDS)
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id == failure.message_id).values(
                    status=OutboxStatus.FAILED if final else OutboxStatus.QUEUED,
                    next_attempt_at=now + timedelta(seconds=delay),
                    locked_until=None,
                    last_error=failure.error[:2000],
                )
            )
    return gave_up


def drain(max_batches: int | None = None, stop: threading.Event | None = None) -> DrainResult:
    """Send everything that was due when the pass began, batch by batch, or until `stop`
    is set (the batch in hand is finished). A message that fails now waits for its next
    attempt time, even with zero backoff."""
    config = current_app.config
    result = DrainResult()
    started = utcnow()
    batches = 0
    while (max_batches is None or batches < max_batches) and not (stop and stop.is_set()):
        claim = claim_batch(config["OUTBOX_BATCH_SIZE"], due_by=started)
        if not claim.messages and not claim.held:
            break
        batches += 1
        result.held += claim.held
        if not claim.messages:
            continue
        sent_ids: list[int] = []
        failures: list[Failure] = []
        bounced: list[bounces.Bounce] = []
        sender = publication.sender(config["MAIL_DEFAULT_SENDER"])
        with backend_for(config) as backend:
            for row in claim.messages:
                try:
                    # Built here, so that a mail that cannot be built fails alone, as a
                    # refused one does, rather than holding up every mail after it.
                    backend.send(build_message(row, sender), envelope_sender=verp.envelope_sender(verp.OUTBOX, row.id))
                except Exception as error:  # retried later, unless refused for good
                    log.warning("sending outbox message %s failed: %s", row.id, error)
                    failures.append(_failure(row, error, bounced))
                    result.errors.append(str(error))
                else:
                    sent_ids.append(row.id)
        result.gave_up += _record(sent_ids, failures, bounced)
        result.sent += len(sent_ids)
        result.failed_attempts += len(failures)
    return result


def _failure(row, error: Exception, bounced: list[bounces.Bounce]) -> Failure:
    """The failure to record; a refusal of the recipient is a bounce too (5xx hard, 4xx soft)."""
    refused = refusals.refusal(error, ascii_domain(row.recipient))
    if refused is None:
        return Failure(row.id, row.attempts, f"{type(error).__name__}: {error}")
    bounced.append(bounces.Bounce(row.recipient, BounceKind.HARD if refused.permanent else BounceKind.SOFT,
                                  "smtp", str(refused), row.message_id))
    return Failure(row.id, row.attempts, f"Refused: {refused}", permanent=refused.permanent)


def run_forever(poll_seconds: float = 1.0, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            drained = drain(stop=stop)
        except Exception:  # keep the worker alive through a database outage
            log.exception("outbox worker pass failed")
            drained = DrainResult()
        if drained.sent == 0 and drained.failed_attempts == 0 and drained.held == 0:
            stop.wait(poll_seconds)

