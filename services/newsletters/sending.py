"""A worker sending a campaign: batches of claimed recipients go out over several SMTP
connections at once (CAMPAIGN_SMTP_CONNECTIONS), paced by the rate limit all workers share.

Recipients are handed to the connections a few at a time; just before, one statement asks
whether each is still subscribed, so an unsubscribe committed after the claim stops the
mail. The look is at most a few mails per connection ahead of the sending; a mail that
waited longer (a rate limit, a slow relay) is looked at again on its own. A thread of
its own records what was sent, every outcome waiting at that moment in one commit. A
connection waits for its previous mail's record only before the final dot of its next
mail, the moment the server takes it: so a worker killed mid-send leaves at most one mail
per connection sent but not recorded, and those alone go again, with the same Message-ID.
"""

import logging
import threading
import time
from collections import deque

from flask import Flask, current_app
from sqlalchemy.engine import Connection, Engine

from models import BounceKind
from services.core import publication
from services.core.transactions import database_engine
from services.mail import bounces, refusals, verp
from services.mail.mailer import ascii_domain, backend_for
from services.newsletters import recipients
from services.newsletters.mail import CampaignMail, Recipient, message_id
from services.newsletters.pacing import RateLimiter
from services.newsletters.recipients import Claimed, Outcome
from services.subscriptions.subscriptions import unsubscribe_url

log = logging.getLogger(__name__)
# A look older than this when its mail is about to go is taken again, for that mail alone.
LOOK_SECONDS = 1.0


class RecordingFailed(RuntimeError):
    """The database took no record of the mails sent: stop sending."""


class Recorder:
    """Records outcomes on a connection of its own, in a thread of its own. add() returns
    at once with a ticket; wait(ticket) returns once that outcome is committed. It also
    renews the lease of the rows the worker holds.

    On PostgreSQL the connection is in autocommit, so that a group of mails all sent is one
    UPDATE, one round trip (a group with anything else is wrapped in BEGIN … COMMIT); and
    the commit does not wait for the disk: a worker that dies loses nothing committed; only
    a crash of the database itself could lose the last few records (those mails would go
    again, with the same Message-ID)."""

    def __init__(self, app: Flask, engine: Engine):
        self.app = app
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
        # One lock, two conditions: the recording thread waits for work, senders for commits.
        self.lock = threading.Lock()
        self.work, self.done = threading.Condition(self.lock), threading.Condition(self.lock)
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

    def wait(self, ticket: int) -> None:
        with self.lock:
            while self.committed < ticket:
                if self.failure is not None:
                    raise RecordingFailed("recording sent mail failed") from self.failure
                self.done.wait()

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
                        self.done.notify_all()
                    return
                with self.lock:
                    self.committed = upto
                    self.done.notify_all()

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


class CampaignSender:
    """Sends one campaign's claimed recipients over `connections` SMTP connections."""

    def __init__(self, app: Flask, mail: CampaignMail, list_id: int, stop: threading.Event):
        config = app.config
        self.app, self.mail, self.list_id, self.stop = app, mail, list_id, stop
        self.connections = config["CAMPAIGN_SMTP_CONNECTIONS"]
        self.group_size = 2 * self.connections  # handed out, and looked at, together
        self.limiter = RateLimiter(config["CAMPAIGN_RATE_PER_SECOND"], config["CAMPAIGN_RATE_PER_HOUR"])
        self.handed_out: deque[tuple[Claimed, float] | None] = deque()  # and when it was looked at
        # One lock, two conditions: connections wait for mail to send, the hand-out for room.
        self.hand_lock = threading.Lock()
        self.ready, self.room = threading.Condition(self.hand_lock), threading.Condition(self.hand_lock)
        self.halt = threading.Event()  # paused, cancelled or stopping: hand nothing more out
        self.unsent: list[int] = []
        self.sent = 0
        self.lock = threading.Lock()
        engine = database_engine()
        # The look before the mails go reads the latest commits: on PostgreSQL in autocommit (no
        # BEGIN or ROLLBACK around it), on SQLite in a read transaction ended after each look.
        self.look_connection = engine.connect()
        self.second_look_connection = engine.connect()
        if engine.dialect.name == "postgresql":
            self.look_connection = self.look_connection.execution_options(isolation_level="AUTOCOMMIT")
            self.second_look_connection = self.second_look_connection.execution_options(isolation_level="AUTOCOMMIT")
        self.second_look_lock = threading.Lock()
        self.recorder = Recorder(app, engine)
        self.threads = [threading.Thread(target=self._connection_loop, name=f"campaign-smtp-{n}", daemon=True)
                        for n in range(self.connections)]
        for thread in self.threads:
            thread.start()

    def hand_out(self, items: list[Claimed]) -> None:
        """Once the connections have little left to send, look at `items` and hand those
        still subscribed to them; the others are recorded as skipped."""
        with self.hand_lock:
            while len(self.handed_out) > self.connections:
                self.room.wait()
        receiving = self._look(self.look_connection, items)
        looked_at = time.monotonic()
        for item in items:
            if item.subscriber_id not in receiving:
                self.recorder.add(Outcome(item.id, item.attempts, recipients.NOT_SUBSCRIBED, permanent=True,
                                          skipped=True))
        with self.hand_lock:
            handed = [(item, looked_at) for item in items if item.subscriber_id in receiving]
            self.handed_out.extend(handed)
            self.ready.notify(len(handed))

    def close(self) -> list[int]:
        """Wait for the mails handed out; return the claimed ids that were not sent."""
        with self.hand_lock:
            self.handed_out.extend([None] * len(self.threads))
            self.ready.notify_all()
        for thread in self.threads:
            thread.join()
        try:
            self.recorder.close()
        finally:
            self.look_connection.close()
            self.second_look_connection.close()
        return self.unsent

    def _look(self, connection: Connection, items: list[Claimed]) -> set[int]:
        """Which of the items' subscribers still receive the list."""
        try:
            return recipients.receiving_now(connection, self.list_id, [item.subscriber_id for item in items])
        finally:
            connection.rollback()  # the next look sees the latest commits

    def _next(self) -> tuple[Claimed, float] | None:
        with self.hand_lock:
            while not self.handed_out:
                self.ready.wait()
            item = self.handed_out.popleft()
            if len(self.handed_out) <= self.connections:
                self.room.notify()
            return item

    def _connection_loop(self) -> None:
        try:
            with self.app.app_context(), backend_for(self.app.config) as backend:
                self._send_items(backend)
        except Exception:  # the database or the mail backend is gone: leave the rest to the lease
            log.exception("sending campaign %s stopped", self.mail.campaign_id)
            self.halt.set()
            self._send_items(None)

    def _send_items(self, backend) -> None:
        """Until told to end; once halted, what is handed out is kept back, unsent."""
        previous = 0  # the ticket of this connection's last mail
        while (handed := self._next()) is not None:
            item, looked_at = handed
            if backend is None or self.halt.is_set() or self.stop.is_set():
                with self.lock:
                    self.unsent.append(item.id)
                continue
            previous = self.recorder.add(self._send(backend, item, looked_at, previous))
            with self.lock:
                self.sent += 1

    def _send(self, backend, item: Claimed, looked_at: float, previous: int) -> Outcome:
        self.limiter.wait(self.stop)
        if time.monotonic() - looked_at > LOOK_SECONDS:
            with self.second_look_lock:
                receiving = self._look(self.second_look_connection, [item])
            if item.subscriber_id not in receiving:
                return Outcome(item.id, item.attempts, recipients.NOT_SUBSCRIBED, permanent=True, skipped=True)
        try:
            data, smtputf8 = self.mail.fill(Recipient(
                item.subscriber_id, item.email, item.name,
                unsubscribe_url(item.subscriber_id, item.link_key, self.list_id)))
            envelope_sender = verp.envelope_sender(verp.CAMPAIGN_RECIPIENT, item.id) or self.mail.envelope_sender
            backend.send_raw(envelope_sender, ascii_domain(item.email), data, smtputf8=smtputf8,
                             before_end=lambda: self.recorder.wait(previous))
        except RecordingFailed:
            raise
        except Exception as error:  # retried, or given up if refused for good
            log.warning("campaign %s to recipient %s failed: %s", self.mail.campaign_id, item.id, error)
            return self._failure(item, error)
        return Outcome(item.id, item.attempts)

    def _failure(self, item: Claimed, error: Exception) -> Outcome:
        """A refusal of the recipient is a bounce too: 5xx hard (not tried again), 4xx soft."""
        refused = refusals.refusal(error, ascii_domain(item.email))
        if refused is None:
            return Outcome(item.id, item.attempts, f"{type(error).__name__}: {error}")
        bounce = bounces.Bounce(item.email, BounceKind.HARD if refused.permanent else BounceKind.SOFT, "smtp",
                                str(refused), message_id(self.mail.campaign_id, item.subscriber_id))
        return Outcome(item.id, item.attempts, f"Refused: {refused}", permanent=refused.permanent, bounce=bounce)


def sender_address() -> str:
    return publication.sender(current_app.config["MAIL_DEFAULT_SENDER"])

