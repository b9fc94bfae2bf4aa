"""The sending rate limit (CAMPAIGN_RATE_PER_SECOND, CAMPAIGN_RATE_PER_HOUR), held by every
worker together: a relay's quota is one, however many workers send through it.

The moments a mail may go are evenly spaced on one timeline that all workers share, kept
in the database as its next free moment (a row of scheduled_tasks, moved on like a task's
next run). A worker takes a run of moments at a time with one conditional UPDATE, and
sends its mails at those moments; so the rate holds over any window, not only on average.
A moment taken and not used (the campaign ended, the worker stopped) is lost: the rate
can fall short of the limit, never exceed it.
"""

import threading
from collections import deque
from datetime import datetime, timedelta

from sqlalchemy import select, update

from models import ScheduledTask
from models.base import utcnow
from services.core.transactions import dialect_insert, rows_changed, write_connection

# The row holding the next free moment; no scheduled task has this name.
SLOTS_ROW = "newsletters.sending-slots"
# A worker takes about this long's moments at a time: one UPDATE per run of them, and
# few moments lost when a worker's share of the campaign ends in the middle of a run.
RUN_SECONDS = 0.1
LONGEST_RUN = 50


class RateLimiter:
    """At most `per_second` mails a second and `per_hour` an hour (0: no limit) across all
    workers. next_moment() is when this worker's next mail may go."""

    def __init__(self, per_second: float, per_hour: float):
        rates = [rate for rate in (per_second, per_hour / 3600) if rate > 0]
        self.interval = timedelta(seconds=1 / min(rates)) if rates else None
        self.run_length = max(1, min(LONGEST_RUN, round(RUN_SECONDS * min(rates)))) if rates else 0
        self.moments: deque[datetime] = deque()
        self.lock = threading.Lock()

    def next_moment(self) -> datetime | None:
        """The moment this worker's next mail may go; None without a limit."""
        if self.interval is None:
            return None
        with self.lock:
            if not self.moments:
                self.moments.extend(self._take_run())
            return self.moments.popleft()

    def _take_run(self) -> list[datetime]:
        """The next `run_length` free moments, moved out of every other worker's reach."""
        assert self.interval is not None
        while True:
            with write_connection() as connection:
                found = connection.scalar(select(ScheduledTask.next_run_at).where(ScheduledTask.name == SLOTS_ROW))
                now = utcnow()
                if found is None:  # the first run ever: concurrent workers, one insert wins
                    connection.execute(dialect_insert(connection.dialect)(ScheduledTask)
                                       .values(name=SLOTS_ROW, next_run_at=now).on_conflict_do_nothing())
                    continue
                first = max(found, now)
                if rows_changed(connection, update(ScheduledTask).where(
                        ScheduledTask.name == SLOTS_ROW, ScheduledTask.next_run_at == found,
                ).values(next_run_at=first + self.interval * self.run_length)) == 1:
                    return [first + self.interval * n for n in range(self.run_length)]
