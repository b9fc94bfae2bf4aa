"""The suppression list: addresses never mailed again, with why.

One row per lower-cased address (models.bounces.Suppression), whether or not a subscriber
has it; a subscriber with the address also carries the flag (Subscriber.suppressed_at),
which sign-ups and campaign fan-outs read. Both change together, here.
"""

from datetime import datetime

from sqlalchemy import Exists, delete, false, func, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from models import BounceEvent, ConsentAction, ConsentEvent, Subscriber, Suppression, SuppressionReason
from models.base import utcnow
from services.core import audit
from services.core.address_hash import address_hash
from services.core.audit import Actor
from services.core.csv_safety import csv_timestamp
from services.core.pagination import Page, keyset_page
from services.core.transactions import Executor, dialect_insert
from services.core.validation import storable

DETAIL_LENGTH = 1000
SEARCH_LENGTH = 320


def normalised(address: str) -> str:
    return address.strip().lower()


def _dialect(executor: Executor):
    return executor.get_bind().dialect if isinstance(executor, Session) else executor.dialect


def _lists_of(subscriber_id: int, list_ids: dict[int, list[int]] | None) -> list[int | None]:
    """The lists a change names for one subscriber, or [None]: the subscriber as a whole."""
    named: list[int | None] = list((list_ids or {}).get(subscriber_id) or [])
    return named or [None]


def record_consent(executor: Executor, action: ConsentAction, form: str, subscriber_ids: list[int],
                   list_ids: dict[int, list[int]] | None = None) -> None:
    """The consent trail's entry for a change made by the mail system rather than by a
    reader at a form: one per subscriber, or per subscription when `list_ids` says which."""
    rows = [{"subscriber_id": sid, "list_id": list_id, "action": action, "form": form}
            for sid in subscriber_ids for list_id in _lists_of(sid, list_ids)]
    if rows:
        executor.execute(insert(ConsentEvent.__table__), rows)


def suppress(executor: Executor, address: str, reason: SuppressionReason, *, detail: str = "",
             created_by: str = "", at: datetime | None = None) -> bool:
    """Put `address` on the list (once: a second call keeps the first reason), flag its
    subscriber and note it in their consent trail. Returns whether it was added now."""
    address, at = normalised(address)[:320], at or utcnow()
    # RETURNING says whether the row went in (a rowcount is not given for an ORM insert on PostgreSQL).
    added = executor.scalar(dialect_insert(_dialect(executor))(Suppression).values(
        address=address, reason=reason, detail=detail[:DETAIL_LENGTH], created_at=at,
        created_by=created_by[:200]).on_conflict_do_nothing().returning(Suppression.id)) is not None
    flagged = list(executor.scalars(
        update(Subscriber).where(func.lower(Subscriber.email) == address, Subscriber.suppressed_at.is_(None))
        .values(suppressed_at=at, suppression_reason=reason.value).returning(Subscriber.id)))
    record_consent(executor, ConsentAction.SUPPRESSED, f"{reason.value}:{created_by}"[:40], flagged)
    return added


def unsuppress(session: Session, actor: Actor, address: str) -> bool:
    """Take `address` off the list (an owner's decision, audited); it may be mailed again."""
    address = normalised(address)
    if not storable(address):
        return False  # nothing stored holds it
    removed = session.execute(delete(Suppression).where(Suppression.address == address)
                              .returning(Suppression.reason)).scalar()
    if removed is None:
        return False
    cleared = list(session.scalars(
        update(Subscriber).where(func.lower(Subscriber.email) == address, Subscriber.suppressed_at.is_not(None))
        .values(suppressed_at=None, suppression_reason=None).returning(Subscriber.id)))
    record_consent(session, ConsentAction.UNSUPPRESSED, "admin", cleared)
    audit.record(session, actor, "suppression.remove", target=address, details={"reason": str(removed)})
    return True


def add_by_staff(session: Session, actor: Actor, address: str, note: str) -> bool:
    added = suppress(session, address, SuppressionReason.STAFF, detail=note, created_by=actor.label)
    if added:
        audit.record(session, actor, "suppression.add", target=normalised(address), details={"note": note[:200]})
    return added


def listed(address) -> Exists:
    """A SQL condition: `address` (a column or a value) is on the list."""
    return select(Suppression.id).where(Suppression.address == func.lower(address)).exists()


def listed_as_erased(executor: Executor, addresses: list[str]) -> set[str]:
    """Those of `addresses` whose person was erased while suppressed: the list keeps only
    their keyed hash (forget_address), so they are found by hashing."""
    hashes = {address_hash(address): address for address in addresses}
    if not hashes:
        return set()
    return {hashes[hashed] for hashed in executor.scalars(
        select(Suppression.address).where(Suppression.address.in_(list(hashes))))}


def forget_address(executor: Executor, address: str, hashed: str) -> None:
    """On erasure: the address's suppression keeps only `hashed` (the tombstone's keyed hash)
    and its reason, so the address is never mailed again yet not stored; the detail (a
    bounce's text quotes the address) and the bounce history go."""
    address = normalised(address)
    executor.execute(delete(BounceEvent).where(BounceEvent.address == address))
    if executor.scalar(select(Suppression.id).where(Suppression.address == hashed)) is not None:
        executor.execute(delete(Suppression).where(Suppression.address == address))  # erased before
    else:
        executor.execute(update(Suppression).where(Suppression.address == address).values(address=hashed, detail=""))


def _matching(query: str) -> Select:
    statement = select(Suppression)
    query = normalised(query)[:SEARCH_LENGTH]
    if not storable(query):
        return statement.where(false())  # nothing stored holds it
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(Suppression.address.like(f"%{escaped}%", escape="\\"))
    return statement


def search(session: Session, query: str = "", cursor: str | None = None) -> Page:
    """A page of the list, newest first, the addresses containing `query`."""
    return keyset_page(session, _matching(query), (Suppression.created_at, Suppression.id), cursor,
                       key_of=lambda s: (s.created_at, s.id))


EXPORT_HEADER = ("address", "reason", "detail", "created_at", "created_by")


def export_statement() -> Select:
    return select(Suppression.address, Suppression.reason, Suppression.detail,
                  csv_timestamp(Suppression.created_at), Suppression.created_by).order_by(Suppression.id)


def list_subscribers(executor: Executor, subscriber_ids: list[int], reason: SuppressionReason, created_by: str) -> None:
    """Put these subscribers' addresses on the list in one statement (an import's cleaned
    rows; the caller flags the subscribers)."""
    if not subscriber_ids:
        return
    rows = select(func.lower(Subscriber.email), literal(reason.value), literal(""), func.coalesce(
        Subscriber.suppressed_at, utcnow()), literal(created_by)).where(Subscriber.id.in_(subscriber_ids))
    executor.execute(dialect_insert(_dialect(executor))(Suppression).from_select(
        ["address", "reason", "detail", "created_at", "created_by"], rows).on_conflict_do_nothing())
