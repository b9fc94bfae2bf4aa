"""Validate imported records and write them a batch at a time with set-based SQL.

An import only ever makes things more restrictive: it creates subscriptions that
do not exist, unsubscribes or suppresses, but never confirms or re-subscribes an
existing subscription. So importing the same file again changes nothing, and a
local unsubscribe outlives an old export. Nothing is mailed.
"""

import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from models import (
    ConsentAction,
    ConsentEvent,
    ErasureTombstone,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    SuppressionReason,
)
from models.base import new_link_key, utcnow
from services.core.errors import InvalidInput
from services.core.transactions import dialect_insert
from services.core.validation import clean_full_name, normalise_email
from services.data.import_formats import Record
from services.mail import suppression
from services.privacy.privacy import address_hash

CLEANED = "cleaned"
SUPPRESSION_REASON = "cleaned"
LEAVING_STATUSES = frozenset({"unsubscribed", CLEANED})


@dataclass(frozen=True, slots=True)
class ValidRow:
    key: str  # lower-cased address: one subscriber whatever the case
    email: str
    full_name: str
    status: str
    optin_at: datetime | None
    optin_ip: str | None
    confirm_at: datetime | None
    confirm_ip: str | None
    end_at: datetime | None


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    invalid: int = 0


def validate(record: Record) -> ValidRow:
    """The record's clean values, or InvalidInput saying what is wrong."""
    email = normalise_email(record.email)
    full_name = clean_full_name(record.full_name or f"{record.first_name.strip()} {record.last_name.strip()}")
    return ValidRow(
        key=email.lower(), email=email, full_name=full_name, status=record.status,
        optin_at=_time(record.optin_time, "OPTIN_TIME"), optin_ip=_ip(record.optin_ip),
        confirm_at=_time(record.confirm_time, "CONFIRM_TIME"), confirm_ip=_ip(record.confirm_ip),
        end_at=_time(record.end_time, "UNSUB_TIME/CLEAN_TIME"),
    )


def _time(text: str, label: str) -> datetime | None:
    """Mailchimp's 'YYYY-MM-DD HH:MM:SS', in UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(label, f"{label} {text!r} is not a date and time.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _ip(text: str) -> str | None:
    # A malformed IP is not worth rejecting the row for; it is just not kept.
    # (socket's C parser rather than ipaddress: it runs for every row of an import.)
    text = text.strip()
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text)
            return text
        except OSError:
            continue
    return None


def write_batch(session: Session, list_id: int, form: str, rows: list[ValidRow], counts: Counts,
                job_id: int) -> None:
    """Write one batch; the subscriptions it creates remember `job_id`."""
    unique: dict[str, ValidRow] = {}
    for row in rows:
        if row.key in unique:
            counts.skipped += 1
        else:
            unique[row.key] = row
    _drop_erased(session, unique, counts)
    if not unique:
        return
    now = utcnow()
    _insert_many(session, Subscriber.__table__, [
        {"email": row.email, "full_name": row.full_name, "created_at": now, "link_key": new_link_key()}
        for row in unique.values()])
    subscribers = _subscribers_by_key(session, unique)
    existing = dict(session.execute(
        select(Subscription.subscriber_id, Subscription.status).where(
            Subscription.list_id == list_id,
            Subscription.subscriber_id.in_([subscriber_id for subscriber_id, _ in subscribers.values()]))
    ).tuples().all())
    new_subscriptions, leaving, suppressing, events = [], [], [], []
    for key, row in unique.items():
        subscriber_id, suppressed_at = subscribers[key]
        status = existing.get(subscriber_id)
        changed = False
        if status is None:
            new_subscriptions.append(_subscription_values(subscriber_id, list_id, row, now, job_id))
        elif row.status in LEAVING_STATUSES and status != SubscriptionStatus.UNSUBSCRIBED:
            leaving.append({"sid": subscriber_id, "at": row.end_at or now})
            changed = True
        if row.status == CLEANED and suppressed_at is None:
            suppressing.append({"sid": subscriber_id, "at": row.end_at or now})
            changed = True
        if status is None:
            counts.created += 1
        elif changed:
            counts.updated += 1
        else:
            counts.skipped += 1
        events.extend(_consent_values(subscriber_id, list_id, form, row))
    _apply(session, list_id, new_subscriptions, leaving, suppressing, events)


def _apply(session, list_id, new_subscriptions, leaving, suppressing, events) -> None:
    subscriptions, subscribers = Subscription.__table__, Subscriber.__table__
    _insert_many(session, subscriptions, new_subscriptions)
    if leaving:
        session.execute(
            subscriptions.update()
            .where(subscriptions.c.subscriber_id == bindparam("sid"), subscriptions.c.list_id == list_id)
            .values(status=SubscriptionStatus.UNSUBSCRIBED, unsubscribed_at=bindparam("at"),
                    status_changed_at=bindparam("at")),
            leaving)
    if suppressing:
        session.execute(
            subscribers.update().where(subscribers.c.id == bindparam("sid"))
            .values(suppressed_at=bindparam("at"), suppression_reason=SUPPRESSION_REASON),
            suppressing)
        suppression.list_subscribers(session, [row["sid"] for row in suppressing],
                                     SuppressionReason.IMPORTED_CLEANED, "import")
    _insert_many(session, ConsentEvent.__table__, events)


def _insert_many(session: Session, table: Table, rows: list[dict]) -> None:
    """INSERT … ON CONFLICT DO NOTHING through the driver's executemany, with the
    columns' own bind processing, sparing a million-row import SQLAlchemy's per-row
    parameter handling. Column defaults are not applied: rows bring every value (a link key too)."""
    if not rows:
        return
    connection = session.connection()
    sql, positions, processors = _compiled_insert(connection.dialect, table, tuple(rows[0]))
    processed: dict = {}  # a time repeats across rows and columns (the batch's own, an opt-in's)
    for key, kind, process in processors:
        for row in rows:
            value = row[key]
            if (kind, value) not in processed:
                processed[kind, value] = process(value)
            row[key] = processed[kind, value]
    # qmark drivers (SQLite) take tuples in the statement's order; every insert here has several columns.
    params = list(map(itemgetter(*positions), rows)) if positions else rows
    connection.exec_driver_sql(sql, params)


@lru_cache(maxsize=32)
def _compiled_insert(dialect: Dialect, table: Table, keys: tuple[str, ...]):
    compiled = dialect_insert(dialect)(table).on_conflict_do_nothing().compile(dialect=dialect, column_keys=list(keys))
    # The dialect's own processing (as Core statements get it): on SQLite, times become the same text.
    processors = [(key, type(table.c[key].type), table.c[key].type.dialect_impl(dialect).bind_processor(dialect))
                  for key in keys]
    return compiled.string, compiled.positiontup, [(key, kind, process) for key, kind, process in processors
                                                   if process]


_ANY_TOMBSTONE = select(ErasureTombstone.id).limit(1)


def on_list(session: Session, list_id: int, keys: set[str]) -> set[str]:
    """Those of these lower-cased addresses that are on the list already."""
    if not keys:
        return set()
    return keys & set(session.scalars(
        select(func.lower(Subscriber.email)).join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == list_id, func.lower(Subscriber.email).in_(list(keys)))))


def _drop_erased(session: Session, unique: dict[str, ValidRow], counts: Counts) -> None:
    """Erased people stay erased: their addresses are skipped, never re-imported."""
    if session.scalar(_ANY_TOMBSTONE) is None:
        return  # nobody was ever erased: spare hashing every address
    hashes = {address_hash(key): key for key in unique}
    for erased in session.scalars(
        select(ErasureTombstone.address_hash).where(ErasureTombstone.address_hash.in_(list(hashes)))
    ):
        del unique[hashes[erased]]
        counts.skipped += 1


def _subscribers_by_key(session: Session, unique: dict[str, ValidRow]) -> dict[str, tuple[int, datetime | None]]:
    columns = (Subscriber.email, Subscriber.id, Subscriber.suppressed_at)
    found = {email.lower(): (subscriber_id, suppressed_at) for email, subscriber_id, suppressed_at in
             session.execute(select(*columns).where(func.lower(Subscriber.email).in_(list(unique))))}
    # The database's lower() may fold non-ASCII letters differently from Python's.
    for key in unique.keys() - found.keys():
        _, subscriber_id, suppressed_at = session.execute(
            select(*columns).where(func.lower(Subscriber.email) == func.lower(unique[key].email))).one()
        found[key] = (subscriber_id, suppressed_at)
    return found


def _subscription_values(subscriber_id: int, list_id: int, row: ValidRow, now: datetime,
                         job_id: int) -> dict:
    status = SubscriptionStatus.UNSUBSCRIBED if row.status in LEAVING_STATUSES else SubscriptionStatus(row.status)
    confirmed_at = row.confirm_at or (row.optin_at or now if status == SubscriptionStatus.CONFIRMED else None)
    unsubscribed_at = row.end_at or now if status == SubscriptionStatus.UNSUBSCRIBED else None
    changed_at = max((moment for moment in (row.optin_at, confirmed_at, unsubscribed_at) if moment), default=now)
    return {"subscriber_id": subscriber_id, "list_id": list_id, "status": status, "created_at": now,
            "status_changed_at": changed_at, "requested_at": row.optin_at or now,
            "confirmed_at": confirmed_at, "unsubscribed_at": unsubscribed_at, "import_job_id": job_id,
            "link_key": new_link_key()}


def _consent_values(subscriber_id: int, list_id: int, form: str, row: ValidRow) -> list[dict]:
    """Imported proof, keyed by (subscriber, list, action, time) so it is recorded once."""
    proofs = ((ConsentAction.IMPORTED_OPTIN, row.optin_at, row.optin_ip),
              (ConsentAction.IMPORTED_CONFIRM, row.confirm_at, row.confirm_ip),
              (ConsentAction.IMPORTED_UNSUBSCRIBE, row.end_at if row.status in LEAVING_STATUSES else None, None))
    return [{"subscriber_id": subscriber_id, "list_id": list_id, "action": action, "occurred_at": moment,
             "form": form, "ip": ip, "wording_version": None, "user_agent": None, "source_url": None}
            for action, moment, ip in proofs if moment is not None]
