"""What a sending worker sent, recorded in the database as it goes, on a connection and
in a thread of its own, every outcome waiting at that moment in one commit."""

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy.engine import Engine

from services.mail import bounces
from services.newsletters import recipients
from services.newsletters.recipients import Outcome

log = logging.getLogger(__name__)


class RecordingFailed(RuntimeError):
    """The database took no record of the mails sent: stop sending."""


class Recorder:
    """Records outcomes on a connection of its own, in a thread of its own. add() returns
    at once with a ticket; progress() tells which tickets are committed, and on_commit is
    called each time more are. It also renews the lease of the rows the worker holds.

    On PostgreSQL the connection is in autocommit, so that a group of mails all sent is one
    UPDATE, one round trip (a group with anything else is wrapped in BEGIN … COMMIT); and
    the commit does not wait for the disk: a worker that dies loses nothing committed; only
    a crash of the database itself could lose the last few records (those mails would go
    again, with the same Message-ID)."""

    def __init__(self, app: Flask, engine: Engine, on_commit: Callable[[], None]):
        self.app = app
        self.on_commit = on_commit  # called from the recording thread after each commit, or its failure
        # The rows this worker has claimed and not yet recorded: their lease is renewed every
        # third of it, so a batch paced by the rate limit or a slow relay stays this worker's
        # however long it takes, and is another's only once this worker has died.
        self.held: set[int] = set()
        self.lease_seconds = app.config["CAMPAIGN_LEASE_SECONDS"]
        self.renewed_at = time.monotonic()
        self.postgresql = engine.dialect.name == "postgresql"
        self.connection = engine.connect().execution_options(
            **({"isolation_level": "AUTOCOMMIT"} if self.postgresql else {"sqlite_immediate": True}))
        if self.postgresql:  # for this connection's session, until close()
            with self.connection.begin():
                self.connection.exec_driver_sql("SET synchronous_commit TO OFF")
        self.lock = threading.Lock()
        self.work = threading.Condition(self.lock)  # the recording thread waits here for outcomes
        self.waiting: list[Outcome] = []
        self.added = 0  # tickets handed out
        self.committed = 0  # every ticket up to this one is committed
        self.closing = False
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="campaign-record", daemon=True)
        self.thread.start()

    def hold(self, recipient_ids: list[int]) -> None:
        with self.lock:
            self.held.update(recipient_ids)

    def add(self, outcome: Outcome) -> int:
        with self.lock:
            if self.failure is not None:
                raise RecordingFailed("recording sent mail failed") from self.failure
            self.waiting.append(outcome)
            self.added += 1
            self.work.notify()
            return self.added

    def progress(self) -> tuple[int, BaseException | None]:
        """Every ticket up to the first is committed; the second is why recording stopped."""
        with self.lock:
            return self.committed, self.failure

    def _run(self) -> None:
        with self.app.app_context():
            while True:
                with self.lock:
                    while not self.waiting and not self.closing and not self._renewal_due():
                        self.work.wait(self.lease_seconds / 3)
                    if not self.waiting and self.closing:
                        return
                    group, self.waiting, upto = self.waiting, [], self.added
                    self.held.difference_update(outcome.recipient_id for outcome in group)
                    renew = []
                    if self._renewal_due():
                        renew, self.renewed_at = sorted(self.held), time.monotonic()
                try:
                    if renew:
                        self._renew(renew)
                    self._commit(group)
                except BaseException as error:
                    log.exception("recording sent campaign mail failed")
                    with self.lock:
                        self.failure = error
                    self.on_commit()
                    return
                with self.lock:
                    self.committed = upto
                if group:
                    self.on_commit()

    def _renewal_due(self) -> bool:
        return time.monotonic() - self.renewed_at >= self.lease_seconds / 3

    def _renew(self, recipient_ids: list[int]) -> None:
        with self.connection.begin():
            recipients.renew(self.connection, recipient_ids, self.lease_seconds)

    def _commit(self, group: list[Outcome]) -> None:
        if not group:
            return
        with self.connection.begin():
            if self.postgresql and any(outcome.error is not None for outcome in group):
                self.connection.exec_driver_sql("BEGIN")  # several statements: commit them together
            recipients.record(self.connection, group)
            for outcome in group:
                if outcome.bounce is not None:
                    bounces.record(self.connection, outcome.bounce)

    def close(self) -> None:
        """Commit what is waiting, then end; raises if anything went unrecorded."""
        with self.lock:
            self.closing = True
            self.work.notify()
        self.thread.join()
        try:
            if self.postgresql and not self.connection.invalidated:
                with self.connection.begin():
                    self.connection.exec_driver_sql("RESET synchronous_commit")
        finally:
            self.connection.close()
        if self.failure is not None:
            raise RecordingFailed("recording sent mail failed") from self.failure
