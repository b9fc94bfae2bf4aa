"""Fault drills: the database or the mail server failing at the worst moment."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from app import create_app
from extensions import db
from models import ConsentEvent, OutboxMessage, OutboxStatus, Subscriber, Subscription
from services.mail.outbox_worker import drain
from services.subscriptions import subscriptions
from tests.servers import ROOT
from tests.support import TEST_DATABASE_URL, csrf_token, outbox_rows


def stored_rows() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Subscriber, Subscription, ConsentEvent, OutboxMessage)}


def cut_database_connection_during_consent_insert(database_url):
    """PostgreSQL: terminate our own backend mid-transaction, as a crashed or
    restarted server would. SQLite: another process holds the write lock."""
    if db.engine.dialect.name == "postgresql":
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")

        @event.listens_for(db.engine, "before_cursor_execute")
        def kill_backend(connection, cursor, statement, *args):
            if statement.startswith("INSERT INTO consent_events"):
                pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                with admin.connect() as killer:
                    killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return admin.dispose

    locker = create_engine(database_url, isolation_level=None)
    holder = locker.raw_connection()
    holder.execute("BEGIN EXCLUSIVE")

    def release():
        holder.execute("ROLLBACK")
        holder.close()
        locker.dispose()
    return release


def test_database_outage_during_a_post_answers_503_and_writes_nothing(app, database_url, newsletter):
    before = stored_rows()
    impatient = create_app({**app.config, "SQLITE_BUSY_TIMEOUT_MS": 200})
    with impatient.app_context():
        client = impatient.test_client()
        token = csrf_token(client)
        restore = cut_database_connection_during_consent_insert(database_url)
        try:
            response = client.post("/subscribe", data={"csrf_token": token, "email": "outage@example.com"})
        finally:
            restore()
        db.session.remove()
    assert response.status_code == 503
    assert "Nothing was changed" in response.get_data(as_text=True)
    db.session.remove()
    assert stored_rows() == before


def test_a_temporary_smtp_refusal_is_retried_then_fails_with_the_error_kept(app, newsletter, origin, smtp_sink):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    smtp_sink.reply_with = "451 4.7.1 greylisted, try later"
    subscriptions.subscribe("refused@example.com", "", origin)
    results = [drain() for _ in range(3)]
    assert [r.failed_attempts for r in results] == [1, 1, 1] and results[-1].gave_up == 1
    [row] = outbox_rows()
    assert row.status == OutboxStatus.FAILED and "451" in row.last_error


def test_a_permanent_smtp_refusal_fails_at_once_with_the_reply_kept(app, newsletter, origin, smtp_sink):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    smtp_sink.reply_with = "550 5.1.1 mailbox unavailable"
    subscriptions.subscribe("refused@example.com", "", origin)
    assert [drain().failed_attempts for _ in range(3)] == [1, 0, 0]  # no retry of a 5xx
    [row] = outbox_rows()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1) and "550 5.1.1" in row.last_error


def test_smtp_timeout_retries_then_fails_with_the_error_kept(app, newsletter, origin):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never greets: every attempt times out
    app.config.update(MAIL_PORT=silent.getsockname()[1], MAIL_TIMEOUT=0.5, OUTBOX_MAX_ATTEMPTS=2)
    try:
        subscriptions.subscribe("slow@example.com", "", origin)
        assert drain().failed_attempts == 1
        assert drain().gave_up == 1
    finally:
        silent.close()
    [row] = outbox_rows()
    assert row.status == OutboxStatus.FAILED and "timed out" in row.last_error


def worker_process(database_url: str, smtp_port: int, *args: str) -> subprocess.Popen:
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url, "MAIL_BACKEND": "smtp",
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), "OUTBOX_BATCH_SIZE": "10",
           "OUTBOX_LEASE_SECONDS": "1"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "outbox", "work", *args],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_worker_killed_mid_batch_loses_nothing(app, database_url, newsletter, origin, smtp_sink):
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    for n in range(30):
        subscriptions.subscribe(f"drill{n}@example.com", "", origin)
    expected = {row.message_id for row in outbox_rows()}
    smtp_sink.delay_seconds = 0.05

    doomed = worker_process(database_url, smtp_sink.port, "--poll", "0.2")
    smtp_sink.wait_for(4, timeout=30)
    doomed.send_signal(signal.SIGKILL)  # mid-batch: some of its leased rows are unsent
    doomed.wait(timeout=10)
    doomed.stderr.close()
    assert len(smtp_sink.messages) < 30

    threading.Event().wait(1.5)  # let the dead worker's lease run out
    rescuer = worker_process(database_url, smtp_sink.port, "--once")
    assert rescuer.wait(timeout=60) == 0, rescuer.stderr.read().decode()
    rescuer.stderr.close()

    delivered = Counter(mail["Message-ID"] for mail in smtp_sink.messages)
    assert set(delivered) == expected  # nothing lost; any duplicate has the same Message-ID
    db.session.rollback()  # end this session's read snapshot to see the workers' writes
    assert {row.status for row in outbox_rows()} == {OutboxStatus.SENT}


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's write lock; PostgreSQL locks rows")
def test_a_writer_waits_for_sqlite_write_lock_held_briefly_elsewhere_then_succeeds(app, database_url, newsletter,
                                                                                 origin):
    holder = create_engine(database_url, isolation_level=None).raw_connection()
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.15, holder.execute, ["COMMIT"]).start()
    try:
        subscriptions.subscribe("patient@example.com", "", origin)  # retries until the lock is free
    finally:
        holder.close()
    assert stored_rows()["Subscriber"] == 1 and len(outbox_rows()) == 1


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's write lock; PostgreSQL locks rows")
def test_a_writer_gives_up_at_its_busy_timeout_with_a_wrapped_error_and_keeps_its_timeout(database_url, newsletter,
                                                                                         origin):
    impatient = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                            "SQLITE_BUSY_TIMEOUT_MS": 100})
    holder_engine = create_engine(database_url, isolation_level=None)
    holder = holder_engine.raw_connection()
    holder.execute("BEGIN IMMEDIATE")
    try:
        with impatient.app_context():
            started = time.monotonic()
            with pytest.raises(OperationalError, match="locked"):
                subscriptions.subscribe("impatient@example.com", "", origin)
            assert 0.1 <= time.monotonic() - started < 1
            # the retries asked with no wait; the one pooled connection went back with its own
            assert db.engine.pool.checkedin() == 1
            assert db.session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == 100
            db.session.remove()
            db.engine.dispose()
    finally:
        holder.close()
        holder_engine.dispose()
    assert stored_rows()["Subscriber"] == 0


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's write lock")
def test_a_write_transaction_on_a_broken_sqlite_connection_fails_with_a_wrapped_error(app):
    with db.engine.connect() as connection:
        connection.connection.driver_connection.close()  # as a crashed or deleted file would leave it
        with pytest.raises(DBAPIError, match="closed database"):
            connection.execution_options(sqlite_immediate=True).begin()
