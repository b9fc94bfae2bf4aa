"""Database engine tuning, and how services reach the database.

The one convention: services reach the database only through this module. A change
opens write_transaction() (or write_connection() for Core statements alone); a read
goes through read_session(), the session of the request, command or worker loop; work
on a connection of its own (a streamed export) takes database_engine(). A function that
works inside a caller's transaction or reads for it (audit, consent, the outbox, list
lookups) takes that Session as its first argument, and views and commands hand it
read_session(). Nothing else touches the Flask-SQLAlchemy session
(tests/test_architecture.py checks it)."""

import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

from sqlalchemy import Select, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from extensions import db

# What runs a Core statement: a Session, or a Connection (write_connection()), which
# skips the Session's bookkeeping around each statement.
Executor = Session | Connection


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """SQLite: WAL, foreign keys, and BEGIN IMMEDIATE for writes so that a
    read-then-write use case holds the write lock from its first statement
    (otherwise two writers deadlock on the lock upgrade)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        if connection.get_execution_options().get("sqlite_immediate"):
            _begin_immediate(connection, busy_timeout_ms)
        else:
            connection.exec_driver_sql("BEGIN")


# SQLite's own busy handler sleeps 1, 2, 5, 10 … 100 ms between tries, far longer
# than our write transactions hold the lock (about a millisecond), so writers queued
# behind one another would idle most of the time. We ask without waiting and retry after
# a short pause that grows to a millisecond, until the same deadline. The tries go
# straight to the driver, without SQLAlchemy's per-statement work. The last try, and
# any error but "busy" (a broken connection, a damaged file), go through SQLAlchemy, so
# the caller sees its wrapped error and a broken connection is invalidated.
_FIRST_PAUSE_S, _LONGEST_PAUSE_S = 0.0002, 0.001


def _begin_immediate(connection, busy_timeout_ms: int) -> None:
    driver = connection.connection.driver_connection
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = _FIRST_PAUSE_S
    try:
        with suppress(sqlite3.Error):
            driver.execute("PRAGMA busy_timeout = 0")
            while time.monotonic() < deadline:
                try:
                    driver.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as error:
                    if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # extended codes: BUSY_RECOVERY…
                        raise
                time.sleep(pause * random.uniform(0.5, 1.5))  # noqa: S311 (jitter, not security)
                pause = min(pause * 1.5, _LONGEST_PAUSE_S)
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        with suppress(sqlite3.Error):
            driver.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")


def dialect_insert(dialect: Dialect):
    """The dialect's INSERT construct, which has ON CONFLICT (PostgreSQL and SQLite)."""
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


def claimed_ids(leased: Select) -> Select:
    """The ids `leased` (SELECT id … ORDER BY … LIMIT n FOR UPDATE SKIP LOCKED) picks, for
    `UPDATE … WHERE id IN (…)`, picked once. Written as a plain subquery, PostgreSQL may
    run it again for each row the UPDATE looks at (a nested-loop plan); each run skips the
    rows the UPDATE has just changed and takes the next ones, so one claim of n rows could
    take them all. A materialised CTE runs once."""
    picked = leased.cte("leased").prefix_with("MATERIALIZED", dialect="postgresql")
    return select(picked.c.id)


def read_session() -> Session:
    """The session of this request or command, to read through."""
    return db.session()


def database_engine() -> Engine:
    """The engine, for work on a connection of its own (a streamed export, maintenance)."""
    return db.engine


@contextmanager
def write_transaction() -> Iterator[Session]:
    """One transaction for one use case: commit on success, roll back on error."""
    with _one_write_at_a_time():
        _end_read_transaction()
        session = db.session()
        session.connection(execution_options={"sqlite_immediate": True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def write_connection() -> Iterator[Connection]:
    """write_transaction() for a use case of Core statements only, on a Connection of its
    own, without the Session's transaction bookkeeping. Commit on success, roll back on
    error."""
    with _one_write_at_a_time():
        _end_read_transaction()
        with db.engine.connect().execution_options(sqlite_immediate=True) as connection, connection.begin():
            yield connection


_IN_A_WRITE: ContextVar[bool] = ContextVar("roster_in_a_write", default=False)


def in_a_write() -> bool:
    """Whether this context is inside write_transaction() or write_connection()."""
    return _IN_A_WRITE.get()


@contextmanager
def _one_write_at_a_time() -> Iterator[None]:
    """A write inside another would commit the outer one's work halfway, or, on its own
    connection, wait for the lock the outer one holds: refuse it."""
    if _IN_A_WRITE.get():
        raise RuntimeError("a write transaction cannot begin inside another")
    token = _IN_A_WRITE.set(True)
    try:
        yield
    finally:
        _IN_A_WRITE.reset(token)


def _end_read_transaction() -> None:
    """End the Session's transaction if the caller began one (views read before calling
    us), as write_transaction() always did: the caller then reads what we write, and on
    SQLite holds no snapshot while we wait for the lock. Changes the caller made to
    objects but did not save would be committed with it unseen: refuse them instead."""
    if db.session.registry.has() and (session := db.session()).in_transaction():
        if session.new or session.deleted or any(session.is_modified(change) for change in session.dirty):
            raise RuntimeError("unsaved changes to objects before a write transaction; save them in a service")
        session.commit()


def insert_unless_exists(session: Session, model: type, **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: concurrent inserts of one key meet at its
    unique index and exactly one succeeds. Returns whether this one inserted."""
    insert = dialect_insert(session.get_bind().dialect)
    return rows_changed(session, insert(model).values(**values).on_conflict_do_nothing()) == 1


def rows_changed(executor: Executor, statement: Executable, parameters: dict | None = None) -> int:
    """Run an INSERT, UPDATE or DELETE and return how many rows it changed. (A Session
    declares a plain Result, without the count; for these statements it is a CursorResult.)"""
    result = executor.execute(statement, parameters)
    assert isinstance(result, CursorResult)
    return result.rowcount
