"""`flask worker`: one process that delivers the outbox, runs jobs and keeps the schedule.

Mail has a thread of its own, so that a long import never holds up a confirmation, and
newsletters another, so that a campaign to a large list never holds up either.
On stop (SIGTERM) the mail thread finishes its batch, and a job stops at its next
checkpoint and is released for any worker to take at once; after SIGKILL the leases
run out and another worker takes up what this one held.
"""

import logging
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app

from services.core import audit, jobs
from services.core.audit import Actor
from services.core.errors import DomainError
from services.core.transactions import read_session, write_transaction
from services.mail import outbox_worker
from services.newsletters import delivery
from services.worker import schedule
from services.worker.kinds import JOB_KINDS, JobKind

log = logging.getLogger(__name__)


@dataclass
class PassResult:
    """What one `flask worker --once` did."""

    mails_sent: int = 0
    mail_failures: int = 0
    newsletter_mails_sent: int = 0
    jobs_run: int = 0
    tasks_run: list[str] = field(default_factory=list)


class Worker:
    def __init__(self, app: Flask, *, worker_id: str | None = None, kinds: dict[str, JobKind] | None = None,
                 tasks: tuple[schedule.Task, ...] | None = None):
        self.app = app
        self.worker_id = worker_id or jobs.new_worker_id()
        self.kinds = JOB_KINDS if kinds is None else kinds
        self.tasks = schedule.TASKS if tasks is None else tasks
        self.stop = threading.Event()

    def run_job(self) -> bool:
        """Claim one due job and run it; whether there was one."""
        claimed = jobs.claim(self.worker_id, frozenset(self.kinds), self.stop)
        if claimed is None:
            return False
        kind = self.kinds[claimed.kind]
        try:
            result = kind.run(claimed)
            with write_transaction() as session:
                jobs.succeed(session, claimed, result)
        except jobs.Interrupted:
            read_session().rollback()
            jobs.release(claimed)
            log.info("job %s released: the worker is stopping", claimed.id)
        except jobs.LeaseLost:
            read_session().rollback()
            log.warning("job %s was cancelled or taken by another worker; its last step was not kept", claimed.id)
        except Exception as error:  # recorded on the job, which is retried or given up
            read_session().rollback()
            log.exception("job %s (%s) failed", claimed.id, claimed.kind)
            message = str(error) if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
            with write_transaction() as session:
                # A domain error (a refused file) is not cured by trying again.
                if jobs.fail(session, claimed, message, final=isinstance(error, DomainError)) and kind.abandon:
                    kind.abandon(session, claimed.payload, message)
        return True

    def expire_abandoned(self) -> None:
        found = jobs.any_abandoned(read_session())
        read_session().rollback()
        if not found:
            return
        with write_transaction() as session:
            for job in jobs.expire_abandoned(session):
                kind = self.kinds.get(job.kind)
                if kind and kind.abandon:
                    kind.abandon(session, job.payload, jobs.WORKER_STOPPED)

    def run_once(self) -> PassResult:
        """Everything due now: mail, the schedule's due tasks, then jobs until none is due."""
        result = PassResult()
        self._count_mail(result, outbox_worker.drain(stop=self.stop))
        result.tasks_run = schedule.run_due(self.tasks)
        self.expire_abandoned()
        while not self.stop.is_set() and self.run_job():
            result.jobs_run += 1
        self._count_mail(result, outbox_worker.drain(stop=self.stop))  # what the jobs and tasks queued
        result.newsletter_mails_sent = delivery.send_due(self.app, self.stop)
        return result

    @staticmethod
    def _count_mail(result: PassResult, drained: outbox_worker.DrainResult) -> None:
        result.mails_sent += drained.sent
        result.mail_failures += drained.failed_attempts

    def run_forever(self) -> None:
        """Until stop is set: mail and newsletters in threads of their own, jobs and the
        schedule in this one."""
        poll = current_app.config["WORKER_POLL_SECONDS"]
        senders = [threading.Thread(target=self._in_app_context, args=(run, poll, self.stop), name=name)
                   for name, run in (("worker-mail", outbox_worker.run_forever),
                                     ("worker-newsletters", delivery.run_forever))]
        for thread in senders:
            thread.start()
        next_schedule_check = 0.0
        try:
            while not self.stop.is_set():
                busy = False
                try:
                    if time.monotonic() >= next_schedule_check:
                        schedule.run_due(self.tasks)
                        self.expire_abandoned()
                        next_schedule_check = time.monotonic() + poll
                    busy = self.run_job()
                except Exception:  # keep the worker alive through a database outage
                    log.exception("worker pass failed")
                    read_session().rollback()
                if not busy:
                    self.stop.wait(poll)
        finally:
            self.stop.set()
            for thread in senders:
                thread.join()

    def _in_app_context(self, run, *args) -> None:
        with self.app.app_context():
            run(*args)


def cancel(job_id: int, actor: Actor) -> None:
    """Cancel a waiting or running job (a running one stops at its next checkpoint)."""
    with write_transaction() as session:
        job = jobs.cancel(session, job_id)
        kind = JOB_KINDS.get(job.kind)
        if kind and kind.abandon:
            kind.abandon(session, job.payload, f"Cancelled by {actor.label}.")
        audit.record(session, actor, "jobs.cancel", target=f"job:{job_id}", details={"kind": job.kind})


def retry(job_id: int, actor: Actor) -> None:
    """Queue a failed or cancelled job again."""
    with write_transaction() as session:
        job = jobs.retry(session, job_id)
        kind = JOB_KINDS.get(job.kind)
        if kind and kind.revive:
            kind.revive(session, job.payload)
        audit.record(session, actor, "jobs.retry", target=f"job:{job_id}", details={"kind": job.kind})
