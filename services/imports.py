"""Import subscribers from a file: a dry run, then a job that runs in batches
(each one transaction) and reports progress, invalid rows and an audit entry.

The file's whole structure is checked before the first write, so a malformed
file changes nothing. Imported addresses are never mailed by the import.
"""

import csv
import io
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session, contains_eager

from extensions import db
from models import ImportJob, ImportStatus, MailingList, Subscriber, Subscription, SubscriptionStatus
from models.base import utcnow
from services import audit, subscriptions
from services.audit import Actor
from services.csv_safety import ExportDialect, safe_row
from services.errors import InvalidInput, NotFound, SignupsClosed
from services.import_formats import ImportPlan, Record, inspect, records, too_large
from services.import_writer import Counts, ValidRow, validate, write_batch
from services.subscriptions import ListRef, default_list
from services.transactions import write_transaction

BATCH_ROWS = 1000
DRY_RUN_ERRORS = 20
ERROR_CSV_HEADER = ("File", "Line", "Email Address", "Problem")
AUDIT_ACTION = "subscribers.import"
OPT_IN_AUDIT_ACTION = "subscribers.import_opt_in"
UPLOAD_CHUNK_BYTES = 1024 * 1024
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowError:
    part: str
    line: int
    email: str
    problem: str


@dataclass
class DryRunReport:
    file_format: str
    parts: list[tuple[str, str, int]]  # file name, kind, rows
    total_rows: int
    valid_rows: int = 0
    invalid_rows: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)  # the first few


def _max_bytes() -> int:
    return current_app.config["IMPORT_MAX_BYTES"]


def _plan(path: str, column_map: dict[str, str] | None) -> ImportPlan:
    return inspect(path, max_bytes=_max_bytes(), column_map=column_map or None)


def _checked_rows(plan: ImportPlan) -> Iterator[ValidRow | RowError]:
    for part in plan.parts:
        for record in records(part):
            if not isinstance(record, Record):
                line, problem = record
                yield RowError(part.name, line, "", problem)
                continue
            try:
                yield validate(record)
            except InvalidInput as error:
                yield RowError(part.name, record.line, record.email, error.message)


def dry_run(path: str, *, column_map: dict[str, str] | None = None) -> DryRunReport:
    """Everything the import would check, without writing: counts and the first errors."""
    plan = _plan(path, column_map)
    report = DryRunReport(plan.file_format, [(p.name, p.kind, p.rows) for p in plan.parts], plan.total_rows)
    for row in _checked_rows(plan):
        if isinstance(row, RowError):
            report.invalid_rows += 1
            if len(report.errors) < DRY_RUN_ERRORS:
                report.errors.append(row)
        else:
            report.valid_rows += 1
            report.statuses[row.status] = report.statuses.get(row.status, 0) + 1
    return report


def upload_dir() -> Path:
    # Absolute, so the web server and cron name the same files whatever their working directory.
    return Path(current_app.config["IMPORT_UPLOAD_DIR"]).resolve()


def save_upload(stream: BinaryIO, filename: str) -> str:
    """Store an uploaded file for its job, refusing one over IMPORT_MAX_BYTES."""
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.upload"
    written = 0
    with open(path, "wb") as target:
        while chunk := stream.read(UPLOAD_CHUNK_BYTES):
            written += len(chunk)
            if written > _max_bytes():
                target.close()
                path.unlink()
                raise too_large(_max_bytes())
            target.write(chunk)
    return str(path)


def upload_token(path: str) -> str:
    """The name a page carries for a stored upload, instead of its path."""
    return Path(path).stem


def stored_upload(token: str) -> str:
    """The stored upload a token names; only save_upload's own names are accepted,
    so a form value can point at no other file."""
    path = upload_dir() / f"{token}.upload"
    if not re.fullmatch(r"[0-9a-f]{32}", token) or not path.is_file():
        raise NotFound("The uploaded file is no longer here; upload it again.")
    return str(path)


def _import_list(session, list_slug: str | None) -> MailingList | ListRef:
    if not list_slug:
        try:
            return default_list(session)
        except SignupsClosed:
            raise InvalidInput("list", "There is no list to import into; create one first.") from None
    found = session.scalar(select(MailingList).where(MailingList.slug == list_slug))
    if found is None:
        raise InvalidInput("list", f"There is no list {list_slug!r}.")
    return found


def create_job(path: str, actor: Actor, *, filename: str | None = None, list_slug: str | None = None,
               column_map: dict[str, str] | None = None) -> int:
    """Check the file and queue its import; InvalidInput (and no job) if it is malformed."""
    plan = _plan(path, column_map)
    with write_transaction() as session:
        mailing_list = _import_list(session, list_slug)
        job = ImportJob(staff_user_id=actor.staff_user_id, actor=actor.label, list_id=mailing_list.id,
                        source_path=path, filename=(filename or os.path.basename(path))[:255],
                        file_format=plan.file_format, column_map=column_map or {}, total_rows=plan.total_rows)
        session.add(job)
        session.flush()
        return job.id


def run_import(job_id: int) -> ImportJob:
    """Run a queued job to the end; a failure is recorded on the job and re-raised."""
    with write_transaction() as session:
        job = session.get(ImportJob, job_id, with_for_update=True)
        if job is None:
            raise NotFound(f"There is no import job {job_id}.")
        if job.status != ImportStatus.QUEUED:
            raise InvalidInput("job", f"Import job {job_id} has already run.")
        job.status, job.started_at = ImportStatus.RUNNING, utcnow()
        path, column_map, list_id = job.source_path, job.column_map, job.list_id
    try:
        counts, errors = _import_rows(job_id, _plan(path, column_map), list_id)
    except Exception as error:
        with write_transaction() as session:
            job = session.get(ImportJob, job_id)
            job.status, job.finished_at = ImportStatus.FAILED, utcnow()
            job.failure = error.message if isinstance(error, InvalidInput) else "The import stopped on an error."
        raise
    with write_transaction() as session:
        job = session.get(ImportJob, job_id)
        job.status, job.finished_at, job.errors_csv = ImportStatus.DONE, utcnow(), errors.getvalue()
        audit.record(session, Actor(job.actor, job.staff_user_id), AUDIT_ACTION, target=job.filename,
                     details={"job": job.id, "format": job.file_format, "list_id": job.list_id,
                              "rows": job.processed_rows, "created": counts.created, "updated": counts.updated,
                              "skipped": counts.skipped, "invalid": counts.invalid})
    discard_upload(path)
    return job


def _import_rows(job_id: int, plan, list_id: int) -> tuple[Counts, io.StringIO]:
    counts, errors = Counts(), io.StringIO()
    error_writer = csv.writer(errors, ExportDialect)
    error_writer.writerow(ERROR_CSV_HEADER)
    form = f"import:{plan.file_format}"
    batch: list[ValidRow] = []
    seen = 0
    for row in _checked_rows(plan):
        seen += 1
        if isinstance(row, RowError):
            counts.invalid += 1
            error_writer.writerow(safe_row((row.part, row.line, row.email, row.problem)))
        else:
            batch.append(row)
        if seen % BATCH_ROWS == 0:
            _commit_batch(job_id, list_id, form, batch, counts, seen)
            batch = []
    _commit_batch(job_id, list_id, form, batch, counts, seen)
    return counts, errors


def _commit_batch(job_id, list_id, form, batch, counts: Counts, seen: int) -> None:
    with write_transaction() as session:
        if batch:
            write_batch(session, list_id, form, batch, counts, job_id)
        session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
            processed_rows=seen, created_count=counts.created, updated_count=counts.updated,
            skipped_count=counts.skipped, invalid_count=counts.invalid))


# An upload left at the dry run or the column mapping, or by a job that failed.
ABANDONED_UPLOAD_AGE = timedelta(days=1)


def discard_abandoned_uploads(session: Session) -> int:
    """Delete stored uploads older than a day that no queued or running job needs."""
    needed = set(session.scalars(select(ImportJob.source_path).where(
        ImportJob.status.in_([ImportStatus.QUEUED, ImportStatus.RUNNING]))))
    cutoff = (utcnow() - ABANDONED_UPLOAD_AGE).timestamp()
    removed = 0
    for path in upload_dir().glob("*.upload"):
        try:
            abandoned = str(path) not in needed and path.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue  # its import finished and removed it meanwhile
        if abandoned:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def discard_upload(path: str) -> None:
    """Delete an uploaded copy (once imported, or refused); a file named on the CLI is the user's own."""
    if Path(path).parent == upload_dir():
        Path(path).unlink(missing_ok=True)


def start_in_background(app: Flask, job_id: int) -> threading.Thread:
    """Run the job in a thread of this process; the console polls the job's progress."""

    def work() -> None:
        with app.app_context():
            try:
                run_import(job_id)
            except Exception:
                logger.exception("import job %s failed", job_id)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"import-{job_id}", daemon=True)
    thread.start()
    return thread


def recent_jobs(session: Session, limit: int = 20) -> list[ImportJob]:
    return list(session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def request_opt_in(actor: Actor, job_id: int) -> int:
    """Ask the people a finished job created, whose subscription is still pending and
    who are not suppressed, to confirm: the normal confirmation mail, within the usual
    per-address throttle. Once per job; returns how many mails were queued."""
    with write_transaction() as session:
        job = session.get(ImportJob, job_id, with_for_update=True)
        if job is None:
            raise NotFound(f"There is no import job {job_id}.")
        if job.status != ImportStatus.DONE:
            raise InvalidInput("job", "Only a finished import can be sent an opt-in request.")
        if job.opt_in_requested_at is not None:
            raise InvalidInput("job", "The opt-in request for this import was sent on "
                                      f"{job.opt_in_requested_at:%Y-%m-%d %H:%M} UTC.")
        job.opt_in_requested_at = utcnow()
        pending = session.scalars(
            select(Subscription).join(Subscription.subscriber).options(contains_eager(Subscription.subscriber))
            .where(Subscription.import_job_id == job_id, Subscription.status == SubscriptionStatus.PENDING,
                   Subscriber.suppressed_at.is_(None))
            .order_by(Subscription.id).with_for_update(of=Subscriber)).all()
        queued = sum(subscriptions.send_opt_in_mail(session, subscriptions.OptInMail.of(subscription))
                     for subscription in pending)
        audit.record(session, actor, OPT_IN_AUDIT_ACTION, target=job.filename,
                     details={"job": job_id, "pending": len(pending), "queued": queued})
    return queued


def get_job(job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        raise NotFound(f"There is no import job {job_id}.")
    return job
