"""A worker sending a campaign: batches of claimed recipients go out over several SMTP
connections at once (CAMPAIGN_SMTP_CONNECTIONS), paced by the rate limit all workers share.

The connections are coroutines of one event loop, in one thread beside the worker's own:
with a thread per connection, most of the time went on handing the interpreter from one
thread to the next.

Recipients are handed to the connections a few at a time; just before, one statement asks
whether each is still subscribed, so an unsubscribe committed after the claim stops the
mail. The look is at most a few mails per connection ahead of the sending; a mail that
waited longer (a rate limit, a slow relay) is looked at again on its own. The recorder
(recorder.py) commits what was sent. A connection waits for its previous mail's record
only before the final dot of its next mail, the moment the server takes it: so a worker
killed mid-send leaves at most one mail per connection sent but not recorded, and those
alone go again, with the same Message-ID.
"""

import asyncio
import logging
import threading
import time

from flask import Flask, current_app
from sqlalchemy.engine import Connection

from models import BounceKind
from models.base import utcnow
from services.core import publication
from services.core.transactions import database_engine
from services.mail import bounces, refusals, verp
from services.mail.async_smtp import AsyncSMTP, InProcessBackend, async_backend_for
from services.mail.mailer import ascii_domain
from services.newsletters import recipients
from services.newsletters.mail import CampaignMail, Recipient, message_id
from services.newsletters.pacing import RateLimiter
from services.newsletters.recipients import Claimed, Outcome
from services.newsletters.recorder import Recorder, RecordingFailed
from services.subscriptions.subscriptions import unsubscribe_url

log = logging.getLogger(__name__)
# A look older than this when its mail is about to go is taken again, for that mail alone.
LOOK_SECONDS = 1.0
# The longest a paced connection sleeps before it looks whether the worker is stopping.
STOP_LOOK_SECONDS = 0.25


class CampaignSender:
    """Sends one campaign's claimed recipients over `connections` SMTP connections."""

    def __init__(self, app: Flask, mail: CampaignMail, list_id: int, stop: threading.Event):
        config = app.config
        self.app, self.mail, self.list_id, self.stop = app, mail, list_id, stop
        self.connections = config["CAMPAIGN_SMTP_CONNECTIONS"]
        self.group_size = 2 * self.connections  # handed out, and looked at, together
        self.limiter = RateLimiter(config["CAMPAIGN_RATE_PER_SECOND"], config["CAMPAIGN_RATE_PER_HOUR"])
        self.halt = threading.Event()  # paused, cancelled or stopping: hand nothing more out
        self.unsent: list[int] = []
        self.sent = 0
        # Handed out and not yet taken by a connection; the hand-out waits for room.
        self.hand_lock = threading.Lock()
        self.room = threading.Condition(self.hand_lock)
        self.pending = 0
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue[tuple[Claimed, float] | None] = asyncio.Queue()
        self.record_waiters: list[tuple[int, asyncio.Future]] = []
        engine = database_engine()
        # The look before the mails go reads the latest commits: on PostgreSQL in autocommit (no
        # BEGIN or ROLLBACK around it), on SQLite in a read transaction ended after each look.
        self.look_connection = engine.connect()
        self.second_look_connection = engine.connect()
        if engine.dialect.name == "postgresql":
            self.look_connection = self.look_connection.execution_options(isolation_level="AUTOCOMMIT")
            self.second_look_connection = self.second_look_connection.execution_options(isolation_level="AUTOCOMMIT")
        self.second_look_lock = threading.Lock()
        self.recorder = Recorder(app, engine, on_commit=self._on_commit)
        self.thread = threading.Thread(target=self._run, name="campaign-smtp", daemon=True)
        self.thread.start()

    def hand_out(self, items: list[Claimed]) -> None:
        """Once the connections have little left to send, look at `items` and hand those
        still subscribed to them; the others are recorded as skipped."""
        with self.hand_lock:
            while self.pending > self.connections:
                self.room.wait()
        receiving = self._look(self.look_connection, items)
        looked_at = time.monotonic()
        for item in items:
            if item.subscriber_id not in receiving:
                self.recorder.add(Outcome(item.id, item.attempts, recipients.NOT_SUBSCRIBED, permanent=True,
                                          skipped=True))
        handed = [(item, looked_at) for item in items if item.subscriber_id in receiving]
        with self.hand_lock:
            self.pending += len(handed)
        self.loop.call_soon_threadsafe(self._receive, handed)

    def close(self) -> list[int]:
        """Wait for the mails handed out; return the claimed ids that were not sent."""
        self.loop.call_soon_threadsafe(self._receive, [None] * self.connections)
        self.thread.join()
        try:
            self.recorder.close()
        finally:
            self.loop.close()
            self.look_connection.close()
            self.second_look_connection.close()
        return self.unsent

    def _look(self, connection: Connection, items: list[Claimed]) -> set[int]:
        """Which of the items' subscribers still receive the list."""
        try:
            return recipients.receiving_now(connection, self.list_id, [item.subscriber_id for item in items])
        finally:
            connection.rollback()  # the next look sees the latest commits

    def _second_look(self, item: Claimed) -> bool:
        """In a thread of the loop's pool, so the loop goes on meanwhile; one at a time, on
        a connection of their own."""
        with self.second_look_lock, self.app.app_context():
            return item.subscriber_id in self._look(self.second_look_connection, [item])

    # Everything below runs in the loop's thread.

    def _run(self) -> None:
        with self.app.app_context():
            self.loop.run_until_complete(self._connections())

    async def _connections(self) -> None:
        await asyncio.gather(*(self._connection() for _ in range(self.connections)))
        await self.loop.shutdown_default_executor()

    def _receive(self, handed: list) -> None:
        for one in handed:
            self.queue.put_nowait(one)

    async def _next(self) -> tuple[Claimed, float] | None:
        handed = await self.queue.get()
        if handed is not None:
            with self.hand_lock:
                self.pending -= 1
                if self.pending <= self.connections:
                    self.room.notify()
        return handed

    def _on_commit(self) -> None:
        """From the recorder's thread."""
        self.loop.call_soon_threadsafe(self._committed)

    def _committed(self) -> None:
        upto, failure = self.recorder.progress()
        waiting = []
        for ticket, recorded in self.record_waiters:
            if recorded.done():
                continue
            if failure is not None:
                recorded.set_exception(RecordingFailed("recording sent mail failed"))
            elif ticket <= upto:
                recorded.set_result(None)
            else:
                waiting.append((ticket, recorded))
        self.record_waiters = waiting

    async def _recorded(self, ticket: int) -> None:
        upto, failure = self.recorder.progress()
        if failure is not None:
            raise RecordingFailed("recording sent mail failed") from failure
        if ticket > upto:
            recorded = self.loop.create_future()
            self.record_waiters.append((ticket, recorded))
            await recorded

    async def _connection(self) -> None:
        """Until told to end; once halted, what is handed out is kept back, unsent."""
        backend: AsyncSMTP | InProcessBackend | None = None
        try:
            backend = async_backend_for(self.app.config)
        except Exception:  # a mail backend that cannot be made: leave everything unsent
            log.exception("sending campaign %s stopped", self.mail.campaign_id)
            self.halt.set()
        previous = 0  # the ticket of this connection's last mail
        try:
            while (handed := await self._next()) is not None:
                item, looked_at = handed
                if backend is None or self.halt.is_set() or self.stop.is_set():
                    self.unsent.append(item.id)
                    continue
                try:
                    if not await self._paced():
                        self.unsent.append(item.id)
                        continue
                    outcome = await self._send(backend, item, looked_at, previous)
                except Exception:  # the database is gone, or its record: the mail was not taken
                    log.exception("sending campaign %s stopped", self.mail.campaign_id)
                    self.halt.set()
                    self.unsent.append(item.id)
                    continue
                try:
                    previous = self.recorder.add(outcome)
                except RecordingFailed:  # it went: its lease brings it back, with the same Message-ID
                    self.halt.set()
                    continue
                self.sent += 1
        finally:
            if backend is not None:
                await backend.close()

    async def _paced(self) -> bool:
        """Wait for this mail's moment under the rate limit; False if the worker stops meanwhile.
        Taking a run of moments reads the database, at most a few times a second."""
        moment = self.limiter.next_moment()
        while moment is not None and (delay := (moment - utcnow()).total_seconds()) > 0:
            if self.stop.is_set():
                return False
            await asyncio.sleep(min(delay, STOP_LOOK_SECONDS))
        return not self.stop.is_set()

    async def _send(self, backend: AsyncSMTP | InProcessBackend, item: Claimed, looked_at: float,
                    previous: int) -> Outcome:
        if time.monotonic() - looked_at > LOOK_SECONDS and not await self.loop.run_in_executor(
                None, self._second_look, item):
            return Outcome(item.id, item.attempts, recipients.NOT_SUBSCRIBED, permanent=True, skipped=True)
        try:
            data, smtputf8 = self.mail.fill(Recipient(
                item.subscriber_id, item.email, item.name,
                unsubscribe_url(item.subscriber_id, item.link_key, self.list_id)))
            envelope_sender = verp.envelope_sender(verp.CAMPAIGN_RECIPIENT, item.id) or self.mail.envelope_sender
            await backend.send(envelope_sender, ascii_domain(item.email), data, smtputf8=smtputf8,
                               before_end=lambda: self._recorded(previous))
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

