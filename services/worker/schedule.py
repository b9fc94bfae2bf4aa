"""The schedule: recurring tasks the workers share, each run once per period however
many workers run.

A task's row says when it is next due. A worker takes a due task by moving that time
on in one conditional UPDATE (… WHERE name = :name AND next_run_at <= :now): on any
database exactly one worker's UPDATE matches, and only that worker runs it. A task
that fails records its error and runs again at its next time.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from models import ScheduledTask
from models.base import utcnow
from services.console import dashboard, maintenance
from services.core.audit import Actor
from services.core.transactions import (
    database_engine,
    dialect_insert,
    read_session,
    rows_changed,
    write_transaction,
)
from services.data import scheduled_backups

log = logging.getLogger(__name__)
WORKER = Actor("worker")
# How long the console shows a task as running after a worker took it, at most.
TASK_LEASE = timedelta(hours=1)
ERROR_LENGTH = 2000


class Every:
    """Every `seconds(config)` seconds, the first time at once."""

    def __init__(self, seconds: Callable[[dict], float]):
        self.seconds = seconds

    def first(self, now: datetime) -> datetime:
        return now

    def after(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self.seconds(current_app.config))


class DailyAt:
    """Once a day at `hour(config)` o'clock UTC."""

    def __init__(self, hour: Callable[[dict], int]):
        self.hour = hour

    def first(self, now: datetime) -> datetime:
        return self.after(now)

    def after(self, moment: datetime) -> datetime:
        at = moment.replace(hour=self.hour(current_app.config), minute=0, second=0, microsecond=0)
        return at if at > moment else at + timedelta(days=1)


@dataclass(frozen=True)
class Task:
    name: str
    description: str
    when: Every | DailyAt
    run: Callable[[], object]
    # Whether the task applies to this installation at all.
    applies: Callable[[], bool] = lambda: True


def _on_sqlite() -> bool:
    return database_engine().dialect.name == "sqlite"


def optimize_sqlite() -> None:
    """Let SQLite refresh the statistics its query planner uses, where they have gone stale."""
    with database_engine().connect() as connection:
        connection.exec_driver_sql("PRAGMA optimize")


def recount_dashboard() -> None:
    dashboard.refresh_subscription_figures(read_session())


# A later feature adds its task here, one line each.
TASKS: tuple[Task, ...] = (
    Task("retention-purge", "Forget never-confirmed requests, delivered mail, abandoned uploads, ended sessions",
         DailyAt(lambda config: config["RETENTION_PURGE_HOUR"]), lambda: maintenance.purge(WORKER)),
    # More often than the dashboard's figures expire, so that no staff request waits for them.
    Task("dashboard-recount", "Recount the dashboard's subscription figures",
         Every(lambda config: max(5.0, config["DASHBOARD_CACHE_SECONDS"] * 0.8)), recount_dashboard),
    Task("sqlite-optimize", "PRAGMA optimize (SQLite's planner statistics)",
         DailyAt(lambda config: (config["RETENTION_PURGE_HOUR"] + 1) % 24), optimize_sqlite, applies=_on_sqlite),
    Task("backup", "Back up the database into BACKUP_DIR, keeping the newest BACKUP_KEEP",
         DailyAt(lambda config: config["BACKUP_HOUR"]), scheduled_backups.take_backup),
)


def _due(tasks: tuple[Task, ...], now: datetime) -> list[Task]:
    """The tasks whose time has come; a task seen for the first time gets its row
    (concurrent workers: one insert wins). Read first, so that an idle pass writes nothing."""
    next_runs = dict(read_session().execute(select(ScheduledTask.name, ScheduledTask.next_run_at)).tuples().all())
    read_session().rollback()
    missing = [task for task in tasks if task.name not in next_runs]
    if missing:
        _add_rows(missing, now)
        next_runs |= dict(read_session().execute(select(ScheduledTask.name, ScheduledTask.next_run_at)).tuples().all())
        read_session().rollback()
    return [task for task in tasks if next_runs[task.name] <= now]


def _add_rows(missing: list[Task], now: datetime) -> None:
    with write_transaction() as session:
        insert = dialect_insert(session.get_bind().dialect)
        for task in missing:
            session.execute(insert(ScheduledTask).values(name=task.name, next_run_at=task.when.first(now))
                            .on_conflict_do_nothing())


def _take(task: Task, now: datetime) -> bool:
    """Move the task's next run on from a moment already past; True if this worker did."""
    with write_transaction() as session:
        return rows_changed(
            session,
            update(ScheduledTask)
            .where(ScheduledTask.name == task.name, ScheduledTask.next_run_at <= now)
            .values(next_run_at=task.when.after(now), lease_until=now + TASK_LEASE, last_started_at=now),
        ) == 1


def _finish(task: Task, duration: float, error: str | None) -> None:
    with write_transaction() as session:
        session.execute(update(ScheduledTask).where(ScheduledTask.name == task.name).values(
            lease_until=None, last_finished_at=utcnow(), last_duration_seconds=duration,
            last_error=error[:ERROR_LENGTH] if error else None))


def run_due(tasks: tuple[Task, ...] = TASKS, now: datetime | None = None) -> list[str]:
    """Run every task that is due and that no other worker took first; their names."""
    now = now or utcnow()
    ran = []
    for task in _due(tuple(task for task in tasks if task.applies()), now):
        if not _take(task, now):
            continue
        started = time.monotonic()
        error = None
        try:
            task.run()
        except Exception as failure:  # recorded for the console; the task runs again next period
            log.exception("scheduled task %s failed", task.name)
            error = f"{type(failure).__name__}: {failure}"
        finally:
            read_session().rollback()  # whatever the task read, it holds no snapshot now
        _finish(task, time.monotonic() - started, error)
        ran.append(task.name)
    return ran


@dataclass(frozen=True)
class TaskState:
    task: Task
    row: ScheduledTask | None

    @property
    def running(self) -> bool:
        return self.row is not None and self.row.lease_until is not None and self.row.lease_until > utcnow()


def states(tasks: tuple[Task, ...] = TASKS) -> list[TaskState]:
    """Each applicable task with its last and next run and last error, for the console."""
    rows = {row.name: row for row in read_session().scalars(select(ScheduledTask))}
    return [TaskState(task, rows.get(task.name)) for task in tasks if task.applies()]

