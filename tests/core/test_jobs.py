"""The job queue: enqueued in the caller's transaction, claimed and leased, fenced,
retried with backoff, given up; the console's Background work page."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from extensions import db
from models import AuditEvent, ImportJob, ImportStatus, Job, JobStatus
from models.base import utcnow
from services.core import jobs
from services.core.audit import CLI
from services.core.transactions import write_transaction
from services.data import import_steps
from services.worker.kinds import JobKind
from services.worker.runner import Worker

KIND = "test.kind"


def job(job_id: int) -> Job:
    db.session.rollback()
    return db.session.get(Job, job_id)


def test_a_job_exists_only_if_the_transaction_that_asked_for_it_commits(app):
    with pytest.raises(RuntimeError), write_transaction() as session:
        jobs.enqueue(session, KIND, {"n": 1})
        raise RuntimeError("the change failed")
    with write_transaction() as session:
        kept = jobs.enqueue(session, KIND, {"n": 2})
    assert db.session.scalars(select(Job.id)).all() == [kept]


def test_a_claimed_job_is_leased_and_taken_up_again_when_its_lease_runs_out(app):
    with write_transaction() as session:
        job_id = jobs.enqueue(session, KIND)
    first = jobs.claim("first", {KIND})
    assert (first.id, first.attempts) == (job_id, 1)
    assert jobs.claim("second", {KIND}) is None  # leased
    assert jobs.claim("other", {"other.kind"}) is None

    db.session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    second = jobs.claim("second", {KIND})
    assert (second.id, second.attempts) == (job_id, 2)
    # The first worker, back from a pause, can no longer commit work or finish the job.
    with pytest.raises(jobs.LeaseLost), write_transaction() as session:
        first.checkpoint(session, 5, 10)
    with pytest.raises(jobs.LeaseLost), write_transaction() as session:
        jobs.succeed(session, first)
    with write_transaction() as session:
        second.checkpoint(session, 7, 10, "halfway")
        jobs.succeed(session, second, {"ok": True})
    done = job(job_id)
    assert (done.status, done.progress_done, done.message, done.result) == (JobStatus.SUCCEEDED, 7, "halfway",
                                                                           {"ok": True})


def test_a_failing_job_is_retried_with_backoff_then_given_up_and_its_feature_told(app):
    app.config["JOB_BACKOFF_SECONDS"] = 60
    abandoned = []

    def broken(claimed):
        raise RuntimeError("no luck")

    worker = Worker(app, kinds={KIND: JobKind("Broken", broken, lambda s, payload, why: abandoned.append(why))})
    with write_transaction() as session:
        job_id = jobs.enqueue(session, KIND, max_attempts=2)
    assert worker.run_job()
    retried = job(job_id)
    assert (retried.status, retried.attempts, retried.last_error) == (JobStatus.QUEUED, 1, "RuntimeError: no luck")
    assert timedelta(seconds=59) < retried.run_after - utcnow() <= timedelta(seconds=60)
    assert not worker.run_job()  # not due yet
    db.session.execute(update(Job).values(run_after=utcnow()))
    db.session.commit()
    assert worker.run_job()
    assert (job(job_id).status, job(job_id).attempts, abandoned) == (JobStatus.FAILED, 2, ["RuntimeError: no luck"])


def test_a_job_abandoned_by_its_worker_on_its_last_attempt_is_failed_not_left_running(app, newsletter, tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("email\nada@example.com\n", encoding="utf-8")
    import_job_id, job_id = import_steps.queue_import(str(path), CLI)
    db.session.execute(update(Job).values(max_attempts=1))
    db.session.commit()
    assert jobs.claim("gone", {import_steps.APPLY_JOB}) is not None  # and the worker dies
    db.session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    Worker(app).run_once()
    assert (job(job_id).status, db.session.get(ImportJob, import_job_id).status) == (
        JobStatus.FAILED, ImportStatus.FAILED)


def test_a_stopping_worker_releases_its_import_which_resumes_exactly(app, newsletter, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("email\n" + "".join(f"r{n}@example.com\n" if n % 700 else f"bad{n}\n" for n in range(3500)),
                    encoding="utf-8")
    import_job_id, job_id = import_steps.queue_import(str(path), CLI)
    worker = Worker(app)
    original = jobs.ClaimedJob.checkpoint

    def stop_after_two_batches(self, session, done=None, total=None, message=None):
        if done == 2000:
            worker.stop.set()
        return original(self, session, done, total, message)

    jobs.ClaimedJob.checkpoint = stop_after_two_batches
    try:
        assert worker.run_job()
    finally:
        jobs.ClaimedJob.checkpoint = original
    paused = db.session.get(ImportJob, import_job_id)
    assert (job(job_id).status, paused.status, paused.processed_rows, paused.created_count) == (
        JobStatus.QUEUED, ImportStatus.RUNNING, 1000, 998)
    Worker(app).run_once()
    db.session.rollback()
    done = db.session.get(ImportJob, import_job_id)
    assert (done.status, done.processed_rows, done.created_count, done.invalid_count) == (
        ImportStatus.DONE, 3500, 3495, 5)
    assert len(done.errors_csv.strip().splitlines()) == 6


def test_claims_from_many_workers_at_once_take_each_job_once(app):
    with write_transaction() as session:
        for _ in range(20):
            jobs.enqueue(session, KIND)
    claimed: list[int] = []
    lock = threading.Lock()

    def claim_all(name: str) -> None:
        with app.app_context():
            while (got := jobs.claim(name, {KIND})) is not None:
                with lock:
                    claimed.append(got.id)

    threads = [threading.Thread(target=claim_all, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(db.session.scalars(select(Job.id)))


def page_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_background_page_lists_jobs_and_the_schedule_and_retries_and_cancels(app, signed_in_client, newsletter,
                                                                            tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("email\nada@example.com\n", encoding="utf-8")
    import_job_id, job_id = import_steps.queue_import(str(path), CLI)
    Worker(app, kinds={}).run_once()  # the schedule only
    page = signed_in_client.get("/admin/background").get_data(as_text=True)
    assert 'href="/admin/background"' in page and "Import subscribers" in page
    assert f'href="/admin/imports/{import_job_id}"' in page and 'http-equiv="refresh"' in page
    assert "retention-purge" in page and "dashboard-recount" in page and "never" in page

    cancel = signed_in_client.post(f"/admin/background/jobs/{job_id}/cancel", data={"csrf_token": page_token(page)})
    assert cancel.status_code == 303
    assert job(job_id).status == JobStatus.CANCELLED
    assert db.session.get(ImportJob, import_job_id).status == ImportStatus.FAILED
    assert signed_in_client.post(f"/admin/background/jobs/{job_id}/cancel").status_code == 400  # CSRF

    signed_in_client.post(f"/admin/background/jobs/{job_id}/retry", data={"csrf_token": page_token(page)})
    assert (job(job_id).status, db.session.get(ImportJob, import_job_id).status) == (
        JobStatus.QUEUED, ImportStatus.QUEUED)
    Worker(app).run_once()
    assert (job(job_id).status, db.session.get(ImportJob, import_job_id).created_count) == (JobStatus.SUCCEEDED, 1)
    again = signed_in_client.post(f"/admin/background/jobs/{job_id}/retry", data={"csrf_token": page_token(page)})
    assert "only a failed or cancelled job" in signed_in_client.get(again.headers["Location"]).get_data(as_text=True)
    actions = db.session.execute(select(AuditEvent.action, AuditEvent.target, AuditEvent.actor)
                                 .where(AuditEvent.action.like("jobs.%")).order_by(AuditEvent.id)).all()
    assert actions == [("jobs.cancel", f"job:{job_id}", "owner@example.com"),
                       ("jobs.retry", f"job:{job_id}", "owner@example.com")]
