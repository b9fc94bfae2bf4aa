import signal

import click
from flask import current_app
from flask.cli import with_appcontext

from models import JobStatus
from services.core import jobs
from services.core.transactions import read_session
from services.worker.runner import Worker


@click.command("worker")
@click.option("--once", is_flag=True, help="Do everything due (mail, scheduled tasks, jobs, newsletters), then exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Deliver mail, run jobs and keep the schedule (runs until stopped unless --once)."""
    worker = Worker(current_app._get_current_object())

    def stop(signum, _frame) -> None:
        worker.stop.set()

    # SIGTERM (systemd, docker stop) and Ctrl-C: finish or release what is held, exit 0.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if once:
        result = worker.run_once()
        click.echo(f"sent {result.mails_sent} mails ({result.mail_failures} failed attempts) and "
                   f"{result.newsletter_mails_sent} newsletter mails, "
                   f"ran {result.jobs_run} jobs, scheduled tasks: {', '.join(result.tasks_run) or 'none due'}")
        return
    click.echo(f"worker {worker.worker_id} started", err=True)
    worker.run_forever()
    click.echo(f"worker {worker.worker_id} stopped", err=True)


@click.command("jobs")
@click.option("--status", "statuses", multiple=True, type=click.Choice([s.value for s in JobStatus]),
              help="Only these states (repeatable); default every state.")
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@with_appcontext
def jobs_command(statuses: tuple[str, ...], limit: int) -> None:
    """List background jobs with their state and progress, newest first."""
    for job in jobs.recent(read_session(), tuple(JobStatus(s) for s in statuses), limit):
        progress = f"{job.progress_done}/{job.progress_total}" if job.progress_total else "-"
        error = f"  error: {job.last_error.splitlines()[0]}" if job.last_error else ""
        click.echo(f"{job.id}\t{job.kind}\t{job.status.value}\tattempt {job.attempts}/{job.max_attempts}\t"
                   f"{progress}\t{job.message}{error}")
