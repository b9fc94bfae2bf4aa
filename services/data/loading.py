"""Loading portable rows (services/data/snapshot.py) into an empty database, the same way
for a restore from a backup file and for a move from the other database.

The target gets its schema from the migrations, at the revision the rows were taken at;
then every table is filled in one transaction, in dependency order, a batch at a time
(COPY on PostgreSQL, executemany from a generator on SQLite), so memory stays flat
however many rows there are. A load that fails leaves the schema with no rows in it,
which a second load takes as empty.
"""

import base64
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from extensions import migrate
from models.name_search import made_by_models
from services.core.errors import DomainError
from services.data.snapshot import ALEMBIC_TABLE, Column, revision_of


class LoadRefused(DomainError):
    """The target is not one to load into (it holds data, or another schema)."""


class LoadFailed(DomainError):
    """The rows did not arrive whole (a count or a checksum differs); nothing was kept."""


@dataclass
class TableRows:
    """One table's rows as a source gives them, and how many it says there are."""

    name: str
    columns: list[Column]
    rows: Iterable[list]
    expected: int


def code_revision() -> str:
    """The newest migration this code has (the schema the models describe)."""
    head = ScriptDirectory.from_config(migrate.get_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no head revision")
    return head


def _knows(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(migrate.get_config()).get_revision(revision) is not None
    except CommandError:
        return False


def migrate_to(engine: Engine, revision: str) -> None:
    """Run the migrations on `engine`'s database up to `revision` (migrations/env.py takes
    the connection handed to it)."""
    config = migrate.get_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def data_tables(connection: Connection) -> list[str]:
    """The database's own tables: not Alembic's, not SQLite's name index (made by triggers)."""
    return [name for name in inspect(connection).get_table_names()
            if name != ALEMBIC_TABLE and made_by_models(name, "table", {})]


def quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def row_counts(connection: Connection, names: Iterable[str]) -> dict[str, int]:
    return {name: connection.execute(text(f"SELECT count(*) FROM {quoted(connection, name)}")).scalar_one()  # noqa: S608
            for name in names}


def holds_data(counts: dict[str, int]) -> bool:
    """Whether a database holds anything worth keeping. The one list `flask db upgrade`
    makes in a fresh database is not: a restore may replace it."""
    return sum(counts.values()) - min(counts.get("mailing_lists", 0), 1) > 0


def prepare(engine: Engine, revision: str, tables: list[TableRows], *, force: bool = False) -> None:
    """Give an empty database the schema at `revision`; refuse one holding data (unless
    `force`), at another revision, or whose tables are not the rows' tables."""
    if not _knows(revision):
        raise LoadRefused(f"the rows are from schema revision {revision}, which this version of Roster does not "
                          "know: restore them with the version that wrote them, or a newer one")
    with engine.connect() as connection:
        existing, current = data_tables(connection), revision_of(connection)
    if not existing:
        migrate_to(engine, revision)
    elif (current or code_revision()) != revision:
        raise LoadRefused(f"the database is at schema revision {current}, the rows at {revision}; "
                          "load into an empty database")
    with engine.connect() as connection:
        present = set(data_tables(connection))
        wanted = {table.name for table in tables}
        if present != wanted:
            raise LoadRefused(f"the database's tables are not the rows' tables (missing: "
                              f"{sorted(wanted - present) or 'none'}; extra: {sorted(present - wanted) or 'none'})")
        for table in tables:
            there = {column["name"] for column in inspect(connection).get_columns(table.name)}
            missing = {column.name for column in table.columns} - there
            if missing:
                raise LoadRefused(f"table {table.name} has no column {', '.join(sorted(missing))}")
        if not force and holds_data(row_counts(connection, wanted)):
            raise LoadRefused("the database is not empty: load into an empty one, or replace its data with --force")


# --- portable values -> driver values ------------------------------------------------------

def _sqlite_datetime(value: str) -> str:
    """As SQLAlchemy stores a UTC datetime in SQLite: 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    if len(value) == 32 and value.endswith("+00:00"):
        return f"{value[:10]} {value[11:26]}"
    moment = datetime.fromisoformat(value)
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _binary(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


_IN: dict[str, dict[str, Callable]] = {
    "sqlite": {"datetime": _sqlite_datetime, "boolean": int, "binary": _binary},
    "postgresql": {"binary": _binary},  # COPY takes the rest as they are: ISO times, JSON text
}


def decoder(dialect: str, columns: list[Column]) -> Callable[[list], list]:
    converting = [(index, _IN[dialect][column.kind]) for index, column in enumerate(columns)
                  if column.kind in _IN[dialect]]

    def decode(values: list) -> list:
        if len(values) != len(columns):
            raise LoadFailed(f"a row has {len(values)} values for {len(columns)} columns")
        for index, convert in converting:
            if values[index] is not None:
                values[index] = convert(values[index])
        return values

    return decode


def _counted(rows: Iterable[list], tally: list[int]) -> Iterator[list]:
    for row in rows:
        tally[0] += 1
        yield row


def _write(connection: Connection, table: TableRows) -> int:
    dialect = connection.dialect.name
    decode = decoder(dialect, table.columns)
    names = ", ".join(quoted(connection, column.name) for column in table.columns)
    target = quoted(connection, table.name)
    tally = [0]
    rows = _counted((decode(row) for row in table.rows), tally)
    driver = connection.connection.driver_connection
    if driver is None:
        raise LoadFailed(f"{table.name}: the connection to the database was closed")
    if dialect == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in table.columns)
        cursor = driver.cursor()
        cursor.executemany(f"INSERT INTO {target} ({names}) VALUES ({marks})", rows)  # noqa: S608
        cursor.close()
    return tally[0]


def _move_sequences_on(connection: Connection) -> None:
    """PostgreSQL: each id sequence continues after the highest id loaded, so new rows never
    take a loaded row's id. (SQLite gives a new row the highest id + 1 by itself.)"""
    if connection.dialect.name != "postgresql":
        return
    serials = connection.execute(text(
        "SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name) "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL")).all()
    for table, column, sequence in serials:
        connection.execute(text(
            f"SELECT setval(:sequence, COALESCE((SELECT max({quoted(connection, column)}) "  # noqa: S608
            f"FROM {quoted(connection, table)}), 0) + 1, false)"), {"sequence": sequence})


def load(engine: Engine, tables: Iterable[TableRows]) -> dict[str, int]:
    """Replace every table's rows with the given ones, in one transaction, and check each
    table's count against what its source said; the counts loaded."""
    tables = list(tables)
    with engine.connect().execution_options(sqlite_immediate=True) as connection, connection.begin():
        for table in reversed(tables):
            connection.execute(text(f"DELETE FROM {quoted(connection, table.name)}"))  # noqa: S608
        for table in tables:
            try:
                written = _write(connection, table)
            except connection.dialect.loaded_dbapi.Error as error:  # e.g. SQLite kept a name too long for PostgreSQL
                raise LoadFailed(f"table {table.name}: {error}") from error
            if written != table.expected:
                raise LoadFailed(f"table {table.name}: {written} rows arrived, {table.expected} expected")
        _move_sequences_on(connection)
        counts = row_counts(connection, [table.name for table in tables])
        short = {name: count for name, count in counts.items()
                 if count != next(t.expected for t in tables if t.name == name)}
        if short:
            raise LoadFailed(f"counts differ after loading: {short}")
    with engine.connect() as connection:  # fresh planner statistics for the new rows
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return counts
