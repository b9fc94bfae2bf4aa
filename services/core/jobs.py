"""The job queue: background work written in the same transaction as the change that
asks for it, claimed and leased by workers, retried with backoff.

A worker claims a job with FOR UPDATE SKIP LOCKED (PostgreSQL) or under SQLite's
write lock, and holds it for JOB_LEASE_SECONDS; each checkpoint renews the lease in
the transaction of the work it records, and refuses (LeaseLost) once another worker
has the job or staff cancelled it, so that work is never committed twice. A worker
that dies leaves its job to be claimed again when the lease ends.
"""

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from models import Job, JobStatus
from models.base import utcnow
from services.core.errors import InvalidInput
from services.core.lookup import get_or_raise
from services.core.transactions import Executor, rows_changed, write_transaction

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 6 * 3600
ERROR_LENGTH = 2000
MESSAGE_LENGTH = 300
# Jobs a person may still act on: retry a finished one, cancel a waiting or running one.
RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})
CANCELLABLE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})

_INSERT_JOB = insert(Job.__table__)


class LeaseLost(Exception):
    """This worker no longer holds the job: its lease ran out and another worker took
    it, or staff cancelled it. The caller's transaction must roll back."""


class Interrupted(Exception):
    """The worker is stopping: the job is released, unfinished, for any worker to take."""


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def enqueue(session: Executor, kind: str, payload: dict | None = None, *,
            run_after: datetime | None = None, max_attempts: int | None = None) -> int:
    """Queue a job in the caller's transaction (it exists only if that commits); its id."""
    now = utcnow()
    return session.execute(_INSERT_JOB.returning(Job.__table__.c.id), dict(
        kind=kind, payload=payload or {}, status=JobStatus.QUEUED, attempts=0,
        max_attempts=max_attempts or current_app.config["JOB_MAX_ATTEMPTS"], run_after=run_after or now,
        progress_done=0, progress_total=0, message="", created_at=now,
    )).scalar_one()


@dataclass
class ClaimedJob:
    """A job this worker holds, and what a handler needs to report on it."""

    id: int
    kind: str
    payload: dict
    attempts: int
    max_attempts: int
    worker_id: str
    stop: threading.Event

    @property
    def last_attempt(self) -> bool:
        return self.attempts >= self.max_attempts

    def checkpoint(self, session: Session, done: int | None = None, total: int | None = None,
                   message: str | None = None) -> None:
        """Record progress in the caller's transaction and renew the lease. Raises
        Interrupted when the worker is stopping, LeaseLost when the job is no longer
        this worker's; either way the caller's transaction then rolls back."""
        if self.stop.is_set():
            raise Interrupted
        values: dict = {"lease_expires_at": utcnow() + timedelta(seconds=_lease_seconds())}
        if done is not None:
            values["progress_done"] = done
        if total is not None:
            values["progress_total"] = total
        if message is not None:
            values["message"] = message[:MESSAGE_LENGTH]
        renewed = rows_changed(session, update(Job).where(
            Job.id == self.id, Job.status == JobStatus.RUNNING, Job.worker_id == self.worker_id,
        ).values(**values))
        if renewed != 1:
            raise LeaseLost(f"job {self.id} is no longer held by {self.worker_id}")


def _lease_seconds() -> float:
    return current_app.config["JOB_LEASE_SECONDS"]


def claim(worker_id: str, kinds: frozenset[str] | set[str], stop: threading.Event | None = None) -> ClaimedJob | None:
    """Lease the oldest due job of one of `kinds` to this worker: a queued job whose time
    has come, or a running one whose worker's lease ran out. A job abandoned so on its
    last attempt is failed instead (see expire_abandoned)."""
    now = utcnow()
    table = Job.__table__
    due = and_(table.c.kind.in_(sorted(kinds)), or_(
        and_(table.c.status == JobStatus.QUEUED, table.c.run_after <= now),
        and_(table.c.status == JobStatus.RUNNING, table.c.lease_expires_at < now,
             table.c.attempts < table.c.max_attempts),
    ))
    leased = select(table.c.id).where(due).order_by(table.c.id).limit(1).with_for_update(skip_locked=True)
    with write_transaction() as session:
        row = session.execute(
            update(table).where(table.c.id == leased.scalar_subquery())
            .values(status=JobStatus.RUNNING, attempts=table.c.attempts + 1, worker_id=worker_id,
                    lease_expires_at=now + timedelta(seconds=_lease_seconds()), last_error=None,
                    started_at=now)
            .returning(table.c.id, table.c.kind, table.c.payload, table.c.attempts, table.c.max_attempts)
        ).one_or_none()
    if row is None:
        return None
    return ClaimedJob(row.id, row.kind, row.payload, row.attempts, row.max_attempts, worker_id,
                      stop or threading.Event())


def _abandoned(now: datetime):
    return select(Job).where(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now,
                             Job.attempts >= Job.max_attempts)


def any_abandoned(session: Session) -> bool:
    """A read, so that a worker's idle pass takes no write lock."""
    return session.scalar(_abandoned(utcnow()).with_only_columns(Job.id).limit(1)) is not None


WORKER_STOPPED = "The worker running it stopped, and this was its last attempt."


def expire_abandoned(session: Session) -> list[Job]:
    """Fail the running jobs whose worker's lease ran out on their last attempt, so that no
    job stays "running" without a live worker; returns them, for their kind's clean-up."""
    now = utcnow()
    abandoned = list(session.scalars(_abandoned(now).with_for_update(skip_locked=True)))
    for job in abandoned:
        job.status, job.finished_at, job.lease_expires_at, job.worker_id = JobStatus.FAILED, now, None, None
        job.last_error = WORKER_STOPPED
    return abandoned


def _held(claimed: ClaimedJob):
    return update(Job).where(Job.id == claimed.id, Job.status == JobStatus.RUNNING,
                             Job.worker_id == claimed.worker_id)


def succeed(session: Session, claimed: ClaimedJob, result: dict | None = None) -> None:
    """Mark the job done in the caller's transaction (that of its last piece of work)."""
    now = utcnow()
    done = rows_changed(session, _held(claimed).values(
        status=JobStatus.SUCCEEDED, result=result, finished_at=now, lease_expires_at=None, worker_id=None,
    ))
    if done != 1:
        raise LeaseLost(f"job {claimed.id} is no longer held by {claimed.worker_id}")


def fail(session: Session, claimed: ClaimedJob, error: str, *, final: bool = False) -> bool:
    """Record a failed attempt in the caller's transaction: retried after a backoff that
    doubles, or given up after its last attempt (or at once if `final`). Returns whether
    it was given up (False too if the job was no longer this worker's to fail)."""
    config = current_app.config
    now = utcnow()
    final = final or claimed.last_attempt
    delay = min(config["JOB_BACKOFF_SECONDS"] * 2 ** (claimed.attempts - 1), MAX_BACKOFF_SECONDS)
    recorded = rows_changed(session, _held(claimed).values(
        status=JobStatus.FAILED if final else JobStatus.QUEUED, last_error=error[:ERROR_LENGTH],
        run_after=now + timedelta(seconds=delay), lease_expires_at=None, worker_id=None,
        finished_at=now if final else None,
    ))
    return final and recorded == 1


def release(claimed: ClaimedJob) -> None:
    """Give the job back unfinished (the worker is stopping): any worker may take it at
    once, and the attempt does not count."""
    with write_transaction() as session:
        session.execute(_held(claimed).values(
            status=JobStatus.QUEUED, attempts=Job.attempts - 1, lease_expires_at=None, worker_id=None,
            run_after=utcnow(),
        ))


def cancel(session: Session, job_id: int) -> Job:
    """Cancel a waiting or running job in the caller's transaction; a running one stops at
    its next checkpoint, whose work is not committed."""
    job = _get_for_update(session, job_id)
    if job.status not in CANCELLABLE:
        raise InvalidInput("job", f"Job {job_id} is {job.status.value}; only a queued or running job can be cancelled.")
    job.status, job.finished_at, job.lease_expires_at, job.worker_id = JobStatus.CANCELLED, utcnow(), None, None
    return job


def retry(session: Session, job_id: int) -> Job:
    """Queue a failed or cancelled job again, with its attempts counted afresh."""
    job = _get_for_update(session, job_id)
    if job.status not in RETRYABLE:
        raise InvalidInput("job", f"Job {job_id} is {job.status.value}; only a failed or cancelled job can be retried.")
    job.status, job.attempts, job.run_after, job.finished_at = JobStatus.QUEUED, 0, utcnow(), None
    return job


def _get_for_update(session: Session, job_id: int) -> Job:
    job = get_or_raise(session, Job, job_id, f"There is no job {job_id}.", for_update=True)
    return job


def get(session: Session, job_id: int) -> Job:
    job = get_or_raise(session, Job, job_id, f"There is no job {job_id}.")
    return job


def recent(session: Session, statuses: tuple[JobStatus, ...] | None = None, limit: int = 50) -> list[Job]:
    """The newest jobs first, of these statuses (default every status)."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if statuses:
        query = query.where(Job.status.in_(statuses))
    return list(session.scalars(query))


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


def purge_finished(session: Executor) -> int:
    """Delete the jobs that ended over RETENTION_FINISHED_JOBS_DAYS ago (an import keeps
    its own record); returns how many."""
    cutoff = utcnow() - timedelta(days=current_app.config["RETENTION_FINISHED_JOBS_DAYS"])
    return rows_changed(session, delete(Job).where(Job.status.in_(FINISHED), Job.finished_at < cutoff))
