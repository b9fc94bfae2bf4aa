"""Keyset pagination: newest first by a unique key, with an opaque "after" cursor.

No OFFSET: each page starts where the last one ended, so page 10,000 costs the
same as page 1 when an index covers the key.
"""

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import Session

DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def encode_cursor(values: Sequence[Any]) -> str:
    dumped = [{"dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(dumped).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list | None:
    """The key values in a cursor, or None for a missing or garbled one (the first page)."""
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = [datetime.fromisoformat(v["dt"]) if isinstance(v, dict) else v for v in raw]
    except (ValueError, TypeError, KeyError):
        return None
    if len(values) != arity or any(
        not isinstance(v, int | datetime) or (isinstance(v, datetime) and v.tzinfo is None)
        for v in values
    ):
        return None
    return values


def keyset_page(session: Session, statement: Select, key_columns: Sequence, cursor: str | None,
                key_of: Callable[[Any], Sequence[Any]], size: int = DEFAULT_PAGE_SIZE) -> Page:
    """Run `statement` ordered by `key_columns` descending, after the cursor's key."""
    after = decode_cursor(cursor, len(key_columns))
    if after is not None:
        # Typed literals, so SQLite compares datetimes in their stored text form.
        statement = statement.where(tuple_(*key_columns) < tuple_(*[
            literal(value, column.type) for column, value in zip(key_columns, after, strict=True)]))
    rows = list(session.scalars(
        statement.order_by(*[column.desc() for column in key_columns]).limit(size + 1)
    ))
    if len(rows) <= size:
        return Page(rows, None)
    return Page(rows[:size], encode_cursor(key_of(rows[size - 1])))

