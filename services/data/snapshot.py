"""Every table's rows in one consistent snapshot, in a portable form that either database
takes back: what backups write and what a move copies.

A row is a list of values in its table's column order. Values are JSON's own: datetimes as
ISO 8601 in UTC with microseconds (`2026-12-05T10:00:00.000000+00:00`), dates as ISO dates,
booleans as booleans, JSON columns as their JSON text (so SQL NULL and JSON null stay
apart), binary columns as base64. Each column's kind travels with the rows, so a reader
needs no models of the revision that wrote them.

The tables come from the models' metadata in dependency order, so every table, present
and future, is included with no list to keep.
"""

import base64
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    cast,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError
from sqlalchemy.types import NullType, TypeDecorator

from models import Base
from services.core.errors import DomainError

# Rows fetched from the database at a time (a server-side cursor on PostgreSQL).
READ_BATCH = 5000
ALEMBIC_TABLE = "alembic_version"


class SnapshotError(DomainError):
    """The database cannot be copied as it is (e.g. its schema is not the code's)."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # one of KINDS


KINDS = ("integer", "float", "text", "boolean", "datetime", "date", "json", "binary")


def kind_of(column_type) -> str:
    column_type = column_type.impl if isinstance(column_type, TypeDecorator) else column_type
    # Order matters: JSON and Enum are Strings to some dialects; Boolean is not an Integer.
    for type_class, kind in ((JSON, "json"), (Boolean, "boolean"), (DateTime, "datetime"), (Date, "date"),
                             (LargeBinary, "binary"), (Integer, "integer"), (Float, "float"),
                             (Numeric, "float"), (String, "text"), (Text, "text")):
        if isinstance(column_type, type_class):
            return kind
    raise SnapshotError(f"no portable form for column type {column_type!r}: add it to services/data/snapshot.py")


def tables() -> list[Table]:
    """Every model table, each after the tables it refers to."""
    return list(Base.metadata.sorted_tables)


def columns_of(table: Table) -> list[Column]:
    return [Column(column.name, kind_of(column.type)) for column in table.columns]


# --- from the database's driver values to the portable form ------------------------------

def _datetime_out(value) -> str:
    if isinstance(value, str):  # SQLite stores UTC as text, as SQLAlchemy writes it: 'YYYY-MM-DD HH:MM:SS.ffffff'
        if len(value) == 26 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}+00:00"
        value = datetime.fromisoformat(value)  # hand-written SQL: no microseconds, or an offset
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _date_out(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _binary_out(value) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


_OUT: dict[str, Callable | None] = {
    "datetime": _datetime_out, "date": _date_out, "boolean": bool, "binary": _binary_out,
    "integer": None, "float": None, "text": None, "json": None,
}


def encoder(columns: list[Column]) -> Callable[[Sequence], list]:
    """Driver values of one row -> its portable values."""
    converting = [(index, convert) for index, column in enumerate(columns) if (convert := _OUT[column.kind])]

    def encode(row) -> list:
        values = list(row)
        for index, convert in converting:
            if values[index] is not None:
                values[index] = convert(values[index])
        return values

    return encode


def _selected(column):
    """The column as the driver gives it, without SQLAlchemy's conversions: JSON as its text
    (a cast, so PostgreSQL sends text too), the rest as stored."""
    if kind_of(column.type) == "json":
        return cast(column, Text).label(column.name)
    return type_coerce(column, NullType()).label(column.name)


# --- the snapshot -------------------------------------------------------------------------

@dataclass
class Snapshot:
    """One read transaction over the whole database: every table read from it sees the
    same moment, however many writes land meanwhile."""

    connection: Connection
    revision: str

    def rows(self, table: Table) -> Iterator[list]:
        """The table's rows in primary-key order, portable, fetched a batch at a time."""
        encode = encoder(columns_of(table))
        statement = select(*[_selected(column) for column in table.columns]).order_by(*table.primary_key.columns)
        result = self.connection.execution_options(yield_per=READ_BATCH).execute(statement)
        for row in result:
            yield encode(row)

    def count(self, table: Table) -> int:
        return self.connection.execute(select(func.count()).select_from(table)).scalar_one()


def revision_of(connection: Connection) -> str | None:
    """The Alembic revision the database is at; None if it has no alembic_version (a
    schema made from the models by create_all, which is the code's own)."""
    if not connection.dialect.has_table(connection, ALEMBIC_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {ALEMBIC_TABLE}")).scalar()  # noqa: S608


@contextmanager
def snapshot(engine: Engine, code_revision: str) -> Iterator[Snapshot]:
    """A consistent read of the database while it keeps taking writes: on SQLite (WAL) one
    read transaction, on PostgreSQL one REPEATABLE READ, READ ONLY transaction. The
    database must be at the code's revision (its tables are the models')."""
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True} \
        if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        try:
            revision = revision_of(connection)
        except DatabaseError as error:
            raise SnapshotError(f"cannot read the database: {error.orig}") from error
        if revision not in (None, code_revision):
            raise SnapshotError(f"the database is at revision {revision}, the code at {code_revision}: "
                                "run `flask db upgrade` first")
        yield Snapshot(connection, revision or code_revision)
