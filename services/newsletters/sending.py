"""A worker sending a campaign: batches of claimed recipients go out over several SMTP
connections at once (CAMPAIGN_SMTP_CONNECTIONS), paced by the rate limit.

Each connection records its mail as sent before it sends the next, so a worker killed
mid-send leaves at most one mail per connection sent but not recorded: those alone go
again, with the same Message-ID. Recording is grouped: connections that finish at about
the same time share one commit. Just before each mail goes, the reader's subscription is
asked again, so an unsubscribe committed after the claim stops the mail.
"""

import logging
import queue
import threading
import time

from flask import Flask, current_app
from sqlalchemy.engine import Connection

from models import BounceKind
from services.core import publication
from services.core.transactions import database_engine
from services.mail import bounces, refusals, verp
from services.mail.mailer import ascii_domain, backend_for
from services.newsletters import recipients
from services.newsletters.mail import CampaignMail, Recipient, message_id
from services.newsletters.recipients import Claimed, Outcome
from services.subscriptions.subscriptions import unsubscribe_url

log = logging.getLogger(__name__)


class RateLimiter:
    """At most `per_second` mails a second and `per_hour` an hour (0: no limit), spaced
    evenly, so that the rate holds over any window, not only on average."""

    def __init__(self, per_second: float, per_hour: float):
        rates = [rate for rate in (per_second, per_hour / 3600) if rate > 0]
        self.interval = 1 / min(rates) if rates else 0.0
        self.next_slot = 0.0
        self.lock = threading.Lock()

    def wait(self, stop: threading.Event) -> None:
        if not self.interval:
            return
        with self.lock:
            slot = max(time.monotonic(), self.next_slot)
            self.next_slot = slot + self.interval
        delay = slot - time.monotonic()
        if delay > 0:
            stop.wait(delay)


class Recorder:
    """Records outcomes on a connection of its own; record() returns once its outcome is
    committed. Whoever arrives while no commit runs commits everything waiting.

    On PostgreSQL the commit does not wait for the disk: a worker that dies loses nothing
    committed; only a crash of the database itself could lose the last few records (those
    mails would go again, with the same Message-ID)."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        if self.postgresql:  # for this connection's session, until close(); one statement fewer a commit
            with connection.begin():
                connection.exec_driver_sql("SET synchronous_commit TO OFF")
        self.condition = threading.Condition()
        self.waiting: list[Outcome] = []
        self.filling = 0  # the group being filled
        self.committed = -1  # the last group committed
        self.writing = False
        self.failure: BaseException | None = None

    def record(self, outcome: Outcome) -> None:
        with self.condition:
            self.waiting.append(outcome)
            mine = self.filling
            while self.committed < mine:
                if self.failure is not None:
                    raise RuntimeError("recording sent mail failed") from self.failure
                if not self.writing:
                    group, number = self.waiting, self.filling
                    self.waiting, self.filling, self.writing = [], self.filling + 1, True
                    break
                self.condition.wait()
            else:
                return
        try:
            self._commit(group)
        except BaseException as error:
            with self.condition:
                self.failure, self.writing = error, False
                self.condition.notify_all()
            raise
        with self.condition:
            self.committed, self.writing = number, False
            self.condition.notify_all()

    def _commit(self, group: list[Outcome]) -> None:
        with self.connection.begin():
            recipients.record(self.connection, group)
            for outcome in group:
                if outcome.bounce is not None:
                    bounces.record(self.connection, outcome.bounce)

    def close(self) -> None:
        if self.postgresql and not self.connection.invalidated:
            with self.connection.begin():
                self.connection.exec_driver_sql("RESET synchronous_commit")
        self.connection.close()


class CampaignSender:
    """Sends one campaign's claimed recipients over `connections` SMTP connections."""

    def __init__(self, app: Flask, mail: CampaignMail, list_id: int, stop: threading.Event):
        config = app.config
        self.app, self.mail, self.list_id, self.stop = app, mail, list_id, stop
        self.connections = config["CAMPAIGN_SMTP_CONNECTIONS"]
        self.limiter = app.extensions.setdefault("roster.campaign_rate", RateLimiter(
            config["CAMPAIGN_RATE_PER_SECOND"], config["CAMPAIGN_RATE_PER_HOUR"]))
        self.items: queue.Queue[Claimed | None] = queue.Queue(maxsize=2 * self.connections)
        self.halt = threading.Event()  # paused, cancelled or stopping: hand nothing more out
        self.unsent: list[int] = []
        self.sent = 0
        self.lock = threading.Lock()
        engine = database_engine()
        # The look before each mail reads the latest commits: on PostgreSQL in autocommit (no
        # BEGIN or ROLLBACK around it), on SQLite in a read transaction ended after each look.
        self.check_connection = engine.connect()
        if engine.dialect.name == "postgresql":
            self.check_connection = self.check_connection.execution_options(isolation_level="AUTOCOMMIT")
        self.check_lock = threading.Lock()
        self.recorder = Recorder(engine.connect().execution_options(sqlite_immediate=True))
        self.threads = [threading.Thread(target=self._connection_loop, name=f"campaign-smtp-{n}", daemon=True)
                        for n in range(self.connections)]
        for thread in self.threads:
            thread.start()

    def put(self, item: Claimed) -> None:
        self.items.put(item)

    def close(self) -> list[int]:
        """Wait for the mails handed out; return the claimed ids that were not sent."""
        for _ in self.threads:
            self.items.put(None)
        for thread in self.threads:
            thread.join()
        self.recorder.close()
        self.check_connection.close()
        return self.unsent

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
        while (item := self.items.get()) is not None:
            if backend is None or self.halt.is_set() or self.stop.is_set():
                with self.lock:
                    self.unsent.append(item.id)
                continue
            self.recorder.record(self._send(backend, item))
            with self.lock:
                self.sent += 1

    def _still_receiving(self, item: Claimed) -> bool:
        with self.check_lock:
            try:
                return recipients.receiving_now(self.check_connection, self.list_id, item.subscriber_id)
            finally:
                self.check_connection.rollback()  # the next look sees the latest commits

    def _send(self, backend, item: Claimed) -> Outcome:
        self.limiter.wait(self.stop)
        if not self._still_receiving(item):
            return Outcome(item.id, item.attempts, recipients.NOT_SUBSCRIBED, permanent=True, skipped=True)
        try:
            data, smtputf8 = self.mail.fill(Recipient(
                item.subscriber_id, item.email, item.name,
                unsubscribe_url(item.subscriber_id, item.link_key, self.list_id)))
            envelope_sender = verp.envelope_sender(verp.CAMPAIGN_RECIPIENT, item.id) or self.mail.envelope_sender
            backend.send_raw(envelope_sender, ascii_domain(item.email), data, smtputf8=smtputf8)
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

