"""`flask worker` as real processes: a worker killed in the middle of an import leaves
it to the next, which finishes it exactly; SIGTERM releases what it holds; two workers
run a scheduled task once; an upload's analysis never runs in the web request."""

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from extensions import db
from models import AuditEvent, ImportJob, ImportStatus, Job, JobStatus, ScheduledTask, Subscriber, Subscription
from models.base import utcnow
from services.core.audit import CLI
from services.data import import_steps, imports
from services.worker import schedule
from services.worker.runner import Worker
from tests.servers import ROOT
from tests.support import csrf_token

ROWS = 50_000
INVALID_EVERY = 5_000  # rows 1, 5001, 10001 …: ten invalid addresses
LEASE_SECONDS = 2


def big_import(tmp_path) -> tuple[object, set[str]]:
    """A 50,000-row CSV: ten invalid rows and, last, a repeat of the first address."""
    lines, expected = ["email,name"], set()
    for n in range(ROWS - 1):
        if n % INVALID_EVERY == 1:
            lines.append(f"not-an-address-{n},Bad")
        else:
            lines.append(f"reader{n}@example.com,Reader {n}")
            expected.add(f"reader{n}@example.com")
    lines.append("READER0@example.com,Again")
    path = tmp_path / "readers.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, expected


def start_worker(database_url: str, tmp_path, *args: str) -> subprocess.Popen:
    log = open(tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", *args], cwd=ROOT, stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "APP_ENV": "testing", "TEST_DATABASE_URL": database_url,
             "JOB_LEASE_SECONDS": str(LEASE_SECONDS), "WORKER_POLL_SECONDS": "0.1"})


def finish(process: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    code = process.wait(timeout=30)
    process.stdout and process.stdout.close()
    return code


def wait_until(read, done, timeout: float = 90, interval: float = 0.005):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        db.session.rollback()  # see the worker's commits
        if done(value):
            return value
        assert time.monotonic() < deadline, f"gave up waiting; last seen {value!r}"
        time.sleep(interval)


def processed(import_job_id: int):
    return lambda: db.session.execute(select(ImportJob.status, ImportJob.processed_rows)
                                      .where(ImportJob.id == import_job_id)).one()


def assert_imported_exactly(import_job_id: int, expected: set[str]) -> None:
    db.session.rollback()
    emails = set(db.session.scalars(select(Subscriber.email)))
    assert emails == expected
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == len(expected)
    job = db.session.get(ImportJob, import_job_id)
    assert (job.status, job.processed_rows, job.created_count, job.skipped_count, job.invalid_count) == (
        ImportStatus.DONE, ROWS, len(expected), 1, ROWS // INVALID_EVERY)
    error_lines = job.errors_csv.strip().splitlines()
    assert error_lines[0].startswith("File,Line") and len(error_lines) == 1 + ROWS // INVALID_EVERY
    assert [event.details["created"] for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == imports.AUDIT_ACTION))] == [len(expected)]


def test_a_worker_killed_mid_import_leaves_it_to_the_next_which_finishes_it_exactly(
        app, newsletter, database_url, tmp_path):
    path, expected = big_import(tmp_path)
    import_job_id, job_id = import_steps.queue_import(str(path), CLI)
    first = start_worker(database_url, tmp_path)
    try:
        status, at_kill = wait_until(processed(import_job_id), lambda row: row[1] > 0)
        first.send_signal(signal.SIGKILL)
    finally:
        assert finish(first) == -signal.SIGKILL
    assert status == ImportStatus.RUNNING and 0 < at_kill < ROWS
    held = db.session.get(Job, job_id)
    assert (held.status, held.attempts) == (JobStatus.RUNNING, 1)  # left "running" by a dead worker …

    second = start_worker(database_url, tmp_path)
    try:
        wait_until(processed(import_job_id), lambda row: row[0] == ImportStatus.DONE)
    finally:
        assert finish(second) == 0
    job = db.session.get(Job, job_id)  # … until its lease ran out and the second took it up
    assert (job.status, job.attempts, job.progress_done, job.progress_total) == (JobStatus.SUCCEEDED, 2, ROWS, ROWS)
    assert_imported_exactly(import_job_id, expected)


def test_sigterm_releases_the_job_at_once_and_exits_cleanly(app, newsletter, database_url, tmp_path):
    path, expected = big_import(tmp_path)
    import_job_id, job_id = import_steps.queue_import(str(path), CLI)
    worker = start_worker(database_url, tmp_path)
    try:
        wait_until(processed(import_job_id), lambda row: row[1] > 0)
    finally:
        assert finish(worker, signal.SIGTERM) == 0
    job = db.session.get(Job, job_id)
    # Claimable at once, the interrupted attempt not counted; the import waits where it stopped.
    assert (job.status, job.attempts, job.worker_id, job.lease_expires_at) == (JobStatus.QUEUED, 0, None, None)
    assert job.run_after <= utcnow()
    stopped_at = db.session.get(ImportJob, import_job_id).processed_rows
    assert 0 < stopped_at < ROWS

    assert Worker(app).run_once().jobs_run == 1
    assert_imported_exactly(import_job_id, expected)


def test_two_workers_run_a_scheduled_task_once_per_period(app, newsletter, database_url, tmp_path):
    now = utcnow()
    db.session.add_all([ScheduledTask(name=task.name, next_run_at=now + timedelta(hours=1))
                        for task in schedule.TASKS])
    db.session.commit()
    db.session.execute(update(ScheduledTask).where(ScheduledTask.name == "retention-purge")
                       .values(next_run_at=now - timedelta(minutes=1)))
    db.session.commit()

    workers = [start_worker(database_url, tmp_path, "--once") for _ in range(2)]
    assert [process.wait(timeout=60) for process in workers] == [0, 0]
    for process in workers:
        finish(process)
    db.session.rollback()
    purges = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "maintenance.purge")).all()
    assert [event.actor for event in purges] == ["worker"]
    task = db.session.get(ScheduledTask, "retention-purge")
    at_the_hour = now.replace(hour=app.config["RETENTION_PURGE_HOUR"], minute=0, second=0, microsecond=0)
    assert task.next_run_at == (at_the_hour if at_the_hour > now else at_the_hour + timedelta(days=1))
    assert task.last_finished_at is not None and task.last_error is None and task.lease_until is None

    assert schedule.run_due() == []  # not again in this period


def test_a_failing_scheduled_task_records_its_error_and_waits_for_its_next_period(app):
    def broken():
        raise RuntimeError("disk full")

    task = schedule.Task("broken", "Always fails", schedule.Every(lambda config: 3600), broken)
    assert schedule.run_due((task,)) == ["broken"]
    assert schedule.run_due((task,)) == []
    row = db.session.get(ScheduledTask, "broken")
    assert row.last_error == "RuntimeError: disk full" and row.next_run_at > utcnow() + timedelta(minutes=59)


def test_a_100_mib_upload_returns_before_its_analysis(app, signed_in_client, newsletter):
    size = 100 * 1024 * 1024
    assert app.config["IMPORT_MAX_BYTES"] >= size
    line = b"someone@example.com\n"
    content = b"email\n" + line * ((size - 6) // len(line))
    content += b"\n" * (size - len(content))
    token = csrf_token(signed_in_client, "/admin/imports")
    response = signed_in_client.post("/admin/imports/upload", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(content), "huge.csv")})
    del content
    assert response.status_code == 303
    db.session.rollback()
    [job] = db.session.scalars(select(ImportJob)).all()
    # Nothing has read the file: no format, no rows, no dry run; its analysis waits for the worker.
    assert (job.status, job.file_format, job.total_rows, job.analysis) == (ImportStatus.ANALYSING, "", 0, None)
    analysis = db.session.get(Job, job.worker_job_id)
    assert (analysis.kind, analysis.status, analysis.attempts, analysis.progress_done) == (
        import_steps.ANALYSE_JOB, JobStatus.QUEUED, 0, 0)
    page = signed_in_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "checking the file" in page and "Waiting for the worker" in page
    import_steps.discard(job.id)


@pytest.fixture
def jobs_cli(app):
    return lambda *args: app.test_cli_runner().invoke(args=list(args))


def test_cli_queues_an_import_lists_jobs_and_runs_them(jobs_cli, newsletter, tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("email\nada@example.com\nbad\n", encoding="utf-8")
    queued = jobs_cli("subscribers", "import", str(path), "--queue")
    assert queued.exit_code == 0, queued.output
    job_id = int(queued.output.split()[2])
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0  # queued, not run
    listed = jobs_cli("jobs")
    assert f"{job_id}\timport.apply\tqueued" in listed.output

    ran = jobs_cli("worker", "--once")
    assert ran.exit_code == 0 and "ran 1 jobs" in ran.output, ran.output
    listed = jobs_cli("jobs", "--status", "succeeded")
    assert f"{job_id}\timport.apply\tsucceeded\tattempt 1/5\t2/2" in listed.output
    assert db.session.scalars(select(Subscriber.email)).all() == ["ada@example.com"]
