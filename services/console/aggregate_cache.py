"""Aggregates too costly to compute on every request: computed at most once per
period and kept in the database, so that every web process and machine shares them."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CachedAggregate
from models.base import utcnow
from services.core.transactions import dialect_insert, write_transaction

Compute = Callable[[Session], dict]


@dataclass(frozen=True)
class Cached:
    value: dict
    computed_at: datetime


def fresh(session: Session, key: str, compute: Compute, max_age_seconds: float) -> Cached:
    """The stored value if it is younger than `max_age_seconds`, else computed anew and stored."""
    row = session.scalar(select(CachedAggregate).where(CachedAggregate.key == key))
    if row is not None and row.computed_at > utcnow() - timedelta(seconds=max_age_seconds):
        return Cached(row.value, row.computed_at)
    return refresh(session, key, compute)


def refresh(session: Session, key: str, compute: Compute) -> Cached:
    """Compute the value now and store it. Concurrent misses each compute and the
    newest is kept; the worker's schedule, refreshing ahead of expiry, spares requests the cost."""
    started = utcnow()  # the figures are as of their first query
    # Computed before the write transaction: on SQLite that holds the one write lock.
    computed = Cached(compute(session), started)
    with write_transaction() as writer:
        insert = dialect_insert(writer.get_bind().dialect)(CachedAggregate).values(
            key=key, value=computed.value, computed_at=computed.computed_at)
        writer.execute(insert.on_conflict_do_update(
            index_elements=[CachedAggregate.key],
            set_={"value": insert.excluded.value, "computed_at": insert.excluded.computed_at},
            where=CachedAggregate.computed_at < insert.excluded.computed_at))
    return computed
