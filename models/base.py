"""Declarative base shared by every model, with a constraint naming convention."""

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import DateTime, MetaData, String, Table, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, MappedColumn, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


LINK_KEY_LENGTH = 16


def new_link_key() -> str:
    """A fresh random key for the links mailed about one row (16 characters)."""
    return secrets.token_urlsafe(12)


def link_key_column() -> MappedColumn[str]:
    """The key every mailed link about the row carries beside its id. Ids come round
    again (SQLite reuses the highest after a delete; a restored backup reuses any), the
    key does not, so an old link cannot act on a newer row with the same id.
    Every insert supplies a key: ORM and Core inserts by this default, hand-written SQL
    by new_link_key(). The empty server default only lets migration 0015 add the column
    NOT NULL in place on SQLite; an empty key opens no link (services/tokens.py)."""
    return mapped_column(String(LINK_KEY_LENGTH), default=new_link_key, server_default="")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}

    if TYPE_CHECKING:
        # Every model here maps one Table (DeclarativeBase allows any FromClause).
        __table__: ClassVar[Table]
