"""An import's steps as the worker's jobs: the upload request stores the file and
queues its analysis (the dry run) in one transaction, so that it returns however large
the file; staff see the dry run (or choose the columns), then start the import, which
the worker runs in batches and resumes after its last batch if interrupted."""

import os
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import update
from sqlalchemy.orm import Session

from models import ImportJob, ImportStatus, Job
from models.base import utcnow
from services.core import jobs
from services.core.audit import Actor
from services.core.errors import InvalidInput, NotFound
from services.core.jobs import ClaimedJob
from services.core.lookup import get_or_raise
from services.core.transactions import read_session, write_transaction
from services.data.import_formats import UnknownColumns, column_samples
from services.data.imports import discard_upload, dry_run, new_job, plan_of, run_import, save_upload, stored_file

# The jobs the worker runs for an import (services/worker/kinds.py).
ANALYSE_JOB = "import.analyse"
APPLY_JOB = "import.apply"
# An import staff may still choose columns for, start, or discard.
UNDECIDED = (ImportStatus.ANALYSING, ImportStatus.NEEDS_COLUMNS, ImportStatus.ANALYSED)


def queue_import(path: str, actor: Actor, *, list_slug: str | None = None,
                 column_map: dict[str, str] | None = None) -> tuple[int, int]:
    """Check the file and queue its import for the worker: (import job id, job id)."""
    path = os.path.abspath(path)  # the worker may run in another directory
    plan = plan_of(path, column_map)
    with write_transaction() as session:
        job = new_job(session, path, actor, filename=None, list_slug=list_slug, column_map=column_map,
                       status=ImportStatus.QUEUED, plan=plan)
        job.worker_job_id = jobs.enqueue(session, APPLY_JOB, {"import_job_id": job.id})
        return job.id, job.worker_job_id


def upload(stream: BinaryIO, filename: str, actor: Actor, *, list_slug: str | None = None) -> int:
    """Store an uploaded file and queue its analysis (the dry run) for the worker, in one
    transaction; the import job's id. Nothing reads the file here, so a request returns
    however large it is."""
    path = save_upload(stream, filename)
    try:
        with write_transaction() as session:
            job = new_job(session, path, actor, filename=filename, list_slug=list_slug, column_map=None,
                           status=ImportStatus.ANALYSING)
            job.worker_job_id = jobs.enqueue(session, ANALYSE_JOB, {"import_job_id": job.id})
            return job.id
    except BaseException:
        discard_upload(path)
        raise


def _undecided(session: Session, job_id: int, allowed: tuple[ImportStatus, ...], doing: str) -> ImportJob:
    job = get_or_raise(session, ImportJob, job_id, f"There is no import job {job_id}.", for_update=True)
    if job.status not in allowed:
        raise InvalidInput("job", f"This import is {job.status.value.replace('_', ' ')}; it cannot be {doing} now.")
    return job


def choose_columns(job_id: int, column_map: dict[str, str]) -> None:
    """Check the file again with these columns (in the worker)."""
    with write_transaction() as session:
        job = _undecided(session, job_id, (ImportStatus.NEEDS_COLUMNS, ImportStatus.ANALYSED), "checked again")
        job.column_map, job.status, job.analysis = column_map, ImportStatus.ANALYSING, None
        job.worker_job_id = jobs.enqueue(session, ANALYSE_JOB, {"import_job_id": job.id})


def start(job_id: int) -> int:
    """Queue the import of a file whose dry run staff have seen; the worker's job id."""
    with write_transaction() as session:
        job = _undecided(session, job_id, (ImportStatus.ANALYSED,), "started")
        job.status = ImportStatus.QUEUED
        job.worker_job_id = jobs.enqueue(session, APPLY_JOB, {"import_job_id": job.id})
        return job.worker_job_id


def discard(job_id: int) -> None:
    """Forget an upload staff decided not to import; its analysis, if queued, then does nothing."""
    with write_transaction() as session:
        job = _undecided(session, job_id, UNDECIDED, "discarded")
        job.status, job.finished_at = ImportStatus.DISCARDED, utcnow()
        path = job.source_path
    discard_upload(path)


def analyse(claimed: ClaimedJob) -> dict:
    """The worker's analysis job: the dry run of an uploaded file, kept for the review
    page; or the file's columns, if staff must choose them; or why the file is refused."""
    job_id = claimed.payload["import_job_id"]
    job = read_session().get(ImportJob, job_id)
    if job is None or job.status != ImportStatus.ANALYSING:
        read_session().rollback()
        return {"import_job": job_id, "skipped": "not waiting for analysis"}
    path, column_map, filename, list_id = job.source_path, job.column_map, job.filename, job.list_id
    read_session().rollback()

    def progress(done: int, total: int) -> None:
        with write_transaction() as session:
            claimed.checkpoint(session, done, total, "Checking the file")

    refused, total_rows = False, None
    values: dict[str, object]
    try:
        report = dry_run(stored_file(path), column_map=column_map, name=filename, list_id=list_id, progress=progress)
        status, total_rows = ImportStatus.ANALYSED, report.total_rows
        values = {"analysis": asdict(report), "file_format": report.file_format, "total_rows": total_rows}
    except UnknownColumns as error:
        status = ImportStatus.NEEDS_COLUMNS
        values = {"analysis": {"columns": error.columns, "problem": error.message,
                               "samples": column_samples(path, len(error.columns))}}
    except (InvalidInput, NotFound) as error:
        refused, status = True, ImportStatus.REFUSED
        values = {"failure": str(error), "finished_at": utcnow()}
    with write_transaction() as session:
        claimed.checkpoint(session, total_rows, total_rows, "Checked")
        session.execute(update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == ImportStatus.ANALYSING)
                        .values(status=status, **values))
    if refused:
        discard_upload(path)  # a malformed file is not kept
    return {"import_job": job_id, "status": status.value}


def apply(claimed: ClaimedJob) -> dict:
    """The worker's import job: run (or resume) the import to the end."""
    job_id = claimed.payload["import_job_id"]
    job = read_session().get(ImportJob, job_id)
    status = job.status if job else None
    read_session().rollback()
    if status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return {"import_job": job_id, "skipped": f"the import is {status or 'gone'}"}
    job = run_import(job_id, claimed)
    return {"import_job": job_id, "rows": job.processed_rows, "created": job.created_count,
            "updated": job.updated_count, "skipped": job.skipped_count, "invalid": job.invalid_count}


def abandon(session: Session, payload: dict, reason: str) -> None:
    """An import's job ended without finishing (cancelled, or given up): say so on the import."""
    job = session.get(ImportJob, payload["import_job_id"], with_for_update=True)
    if job is None:
        return
    if job.status == ImportStatus.ANALYSING:
        job.status, job.failure, job.finished_at = ImportStatus.REFUSED, reason, utcnow()
    elif job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        job.status, job.failure, job.finished_at = ImportStatus.FAILED, reason, utcnow()


def revive(session: Session, payload: dict) -> None:
    """An import's job is tried again: the import waits for it again, where it stopped."""
    job = session.get(ImportJob, payload["import_job_id"], with_for_update=True)
    if job is None or job.status not in (ImportStatus.REFUSED, ImportStatus.FAILED):
        return
    if not Path(job.source_path).is_file():
        raise InvalidInput("job", "The file of this import is no longer here; upload it again.")
    if job.status == ImportStatus.REFUSED:
        job.status = ImportStatus.ANALYSING
    else:
        job.status = ImportStatus.RUNNING if job.processed_rows else ImportStatus.QUEUED
    job.failure, job.finished_at = None, None


def worker_job(job: ImportJob) -> Job | None:
    """The worker's job for the import's current step, for its progress."""
    return read_session().get(Job, job.worker_job_id) if job.worker_job_id else None
