"""The "Background work" page: the worker's jobs (queued, running, failed) with retry
and cancel, the schedule's tasks with their last and next run, and the last backup."""

from flask import redirect, render_template, url_for

from blueprints.admin import bp
from blueprints.admin.access import current_actor, flash_outcome
from models import JobStatus
from services.core import jobs
from services.core.transactions import read_session
from services.data import scheduled_backups
from services.worker import runner, schedule
from services.worker.kinds import JOB_KINDS

RECENT_FINISHED = 20


@bp.route("/background")
def background():
    waiting = jobs.recent(read_session(), (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED), limit=100)
    finished = jobs.recent(read_session(), (JobStatus.SUCCEEDED, JobStatus.CANCELLED), limit=RECENT_FINISHED)
    refresh = any(job.status in (JobStatus.QUEUED, JobStatus.RUNNING) for job in waiting)
    return render_template("admin/background.html", waiting=waiting, finished=finished, kinds=JOB_KINDS,
                           tasks=schedule.states(), last_backup=scheduled_backups.last_run(read_session()),
                           refresh=refresh, retryable=jobs.RETRYABLE,
                           cancellable=jobs.CANCELLABLE)


@bp.route("/background/jobs/<int:job_id>/retry", methods=["POST"])
def job_retry(job_id):
    flash_outcome(lambda: runner.retry(job_id, current_actor()), f"Job {job_id} is queued again.")
    return redirect(url_for(".background"), 303)


@bp.route("/background/jobs/<int:job_id>/cancel", methods=["POST"])
def job_cancel(job_id):
    flash_outcome(lambda: runner.cancel(job_id, current_actor()),
                  f"Job {job_id} is cancelled; if it was running, it stops at its next step.")
    return redirect(url_for(".background"), 303)
