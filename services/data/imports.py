"""Import subscribers from a file: a dry run, then a job that runs in batches
(each one transaction) and reports progress, invalid rows and an audit entry.

The file's whole structure is checked before the first write, so a malformed
file changes nothing. Imported addresses are never mailed by the import.

From the console both steps run in the worker (`flask worker`): an upload is
stored and its analysis queued in one transaction, and starting the import queues
its job. Each batch commits with the job's checkpoint (rows processed, counts,
invalid rows), so an import interrupted anywhere resumes after its last batch.
"""

import csv
import io
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session, contains_eager

from models import ImportJob, ImportStatus, MailingList, Subscriber, Subscription, SubscriptionStatus
from models.base import utcnow
from services.core import audit, jobs
from services.core.audit import Actor
from services.core.csv_safety import ExportDialect, safe_row
from services.core.errors import InvalidInput, NotFound, SignupsClosed
from services.core.jobs import ClaimedJob
from services.core.lookup import get_or_raise
from services.core.transactions import read_session, write_transaction
from services.data.import_formats import ImportPlan, Record, inspect, records, too_large
from services.data.import_writer import Counts, ValidRow, on_list, validate, write_batch
from services.subscriptions import subscriptions
from services.subscriptions.subscriptions import ListRef, default_list

BATCH_ROWS = 1000
DRY_RUN_ERRORS = 20
ERROR_CSV_HEADER = ("File", "Line", "Email Address", "Problem")
AUDIT_ACTION = "subscribers.import"
OPT_IN_AUDIT_ACTION = "subscribers.import_opt_in"
UPLOAD_CHUNK_BYTES = 1024 * 1024
# The dry run reports its progress this often.
ANALYSIS_PROGRESS_ROWS = 10 * BATCH_ROWS
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
    # Valid rows whose address the import would add to its list, and those it would not
    # (already on the list, or repeated in the file); None for a dry run without a list.
    new_addresses: int | None = None
    already_present: int | None = None


def _max_bytes() -> int:
    return current_app.config["IMPORT_MAX_BYTES"]


def plan_of(path: str, column_map: dict[str, str] | None, name: str | None = None) -> ImportPlan:
    """The file's plan; `name` is what the person called the file (the stored copy's own is random)."""
    return inspect(path, max_bytes=_max_bytes(), column_map=column_map or None, name=name)


def _checked_rows(plan: ImportPlan, skip: int = 0) -> Iterator[ValidRow | RowError]:
    """Every row of the file, checked; the first `skip` (already imported) are passed over unchecked."""
    for part in plan.parts:
        for record in records(part):
            if skip:
                skip -= 1
                continue
            if not isinstance(record, Record):
                line, problem = record
                yield RowError(part.name, line, "", problem)
                continue
            try:
                yield validate(record)
            except InvalidInput as error:
                yield RowError(part.name, record.line, record.email, error.message)


def dry_run(path: str, *, column_map: dict[str, str] | None = None, name: str | None = None,
            list_id: int | None = None, progress: Callable[[int, int], None] | None = None) -> DryRunReport:
    """Everything the import would check, without writing: counts and the first errors,
    and with `list_id`, how many addresses are new to that list. `progress(rows checked,
    total)` is told every ANALYSIS_PROGRESS_ROWS rows."""
    plan = plan_of(path, column_map, name)
    report = DryRunReport(plan.file_format, [(p.name, p.kind, p.rows) for p in plan.parts], plan.total_rows)
    if list_id is not None:
        report.new_addresses = report.already_present = 0
    batch: list[str] = []
    for seen, row in enumerate(_checked_rows(plan), start=1):
        if progress and seen % ANALYSIS_PROGRESS_ROWS == 0:
            progress(seen, plan.total_rows)
        if isinstance(row, RowError):
            report.invalid_rows += 1
            if len(report.errors) < DRY_RUN_ERRORS:
                report.errors.append(row)
        else:
            report.valid_rows += 1
            report.statuses[row.status] = report.statuses.get(row.status, 0) + 1
            if list_id is not None:
                batch.append(row.key)
                if len(batch) == BATCH_ROWS:
                    _count_present(report, list_id, batch)
                    batch = []
    if batch and list_id is not None:
        _count_present(report, list_id, batch)
    read_session().rollback()  # the worker holds no read transaction open
    return report


def _count_present(report: DryRunReport, list_id: int, keys: list[str]) -> None:
    """Count a batch of valid addresses as new to the list or already present, as the
    import finds them batch by batch. An address repeated in two batches counts as new
    twice: remembering every address of a large file would cost more than it tells."""
    unique = set(keys)
    present = on_list(read_session(), list_id, unique)
    report.already_present = (report.already_present or 0) + len(keys) - len(unique) + len(present)
    report.new_addresses = (report.new_addresses or 0) + len(unique) - len(present)


def upload_dir() -> Path:
    # Absolute, so the web server and the worker name the same files whatever their working directory.
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


def new_job(session: Session, path: str, actor: Actor, *, filename: str | None, list_slug: str | None,
            column_map: dict[str, str] | None, status: ImportStatus, plan: ImportPlan | None = None) -> ImportJob:
    mailing_list = _import_list(session, list_slug)
    job = ImportJob(staff_user_id=actor.staff_user_id, actor=actor.label, list_id=mailing_list.id,
                    source_path=path, filename=(filename or os.path.basename(path))[:255],
                    file_format=plan.file_format if plan else "", column_map=column_map or {},
                    total_rows=plan.total_rows if plan else 0, status=status)
    session.add(job)
    session.flush()
    return job


def create_job(path: str, actor: Actor, *, filename: str | None = None, list_slug: str | None = None,
               column_map: dict[str, str] | None = None) -> int:
    """Check the file and make its import job, to run in this process (run_import);
    InvalidInput (and no job) if it is malformed."""
    plan = plan_of(path, column_map)
    with write_transaction() as session:
        return new_job(session, path, actor, filename=filename, list_slug=list_slug, column_map=column_map,
                        status=ImportStatus.QUEUED, plan=plan).id


def stored_file(path: str) -> str:
    if not Path(path).is_file():
        raise NotFound("The uploaded file is no longer here; upload it again.")
    return path


@dataclass
class _Checkpoint:
    """How far an import got: the rows processed and their counts, committed with each batch."""

    seen: int
    counts: Counts


def run_import(job_id: int, claimed: ClaimedJob | None = None) -> ImportJob:
    """Run a queued job to the end, or resume one that was interrupted, in batches.
    `claimed`: the worker's job, whose checkpoint each batch records. A refused file
    fails the import at once; any other error does so when there is no retry left, and
    is re-raised."""
    with write_transaction() as session:
        job = get_or_raise(session, ImportJob, job_id, f"There is no import job {job_id}.", for_update=True)
        if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            raise InvalidInput("job", f"Import job {job_id} has already run.")
        if claimed:
            claimed.checkpoint(session, job.processed_rows, job.total_rows, "Importing")
        if job.status == ImportStatus.QUEUED:
            job.status, job.started_at = ImportStatus.RUNNING, utcnow()
            job.errors_csv = _csv_line(ERROR_CSV_HEADER)
        path, column_map, list_id, filename = job.source_path, job.column_map, job.list_id, job.filename
        checkpoint = _Checkpoint(job.processed_rows, Counts(job.created_count, job.updated_count,
                                                            job.skipped_count, job.invalid_count))
    try:
        if list_id is None:  # the list was deleted after the import was queued
            raise NotFound("The list this import was for no longer exists.")
        counts = _import_rows(job_id, plan_of(stored_file(path), column_map, filename), list_id, checkpoint, claimed)
    except (jobs.Interrupted, jobs.LeaseLost):
        raise  # the import is resumed by whichever worker has the job
    except Exception as error:
        if claimed is None or claimed.last_attempt or isinstance(error, InvalidInput | NotFound):
            with write_transaction() as session:
                job = get_or_raise(session, ImportJob, job_id, f"There is no import job {job_id}.")
                job.status, job.finished_at = ImportStatus.FAILED, utcnow()
                job.failure = str(error) if isinstance(error, InvalidInput | NotFound) else \
                    "The import stopped on an error."
        raise
    with write_transaction() as session:
        if claimed:
            claimed.checkpoint(session, message="Imported")
        job = get_or_raise(session, ImportJob, job_id, f"There is no import job {job_id}.")
        job.status, job.finished_at = ImportStatus.DONE, utcnow()
        audit.record(session, Actor(job.actor, job.staff_user_id), AUDIT_ACTION, target=job.filename,
                     details={"job": job.id, "format": job.file_format, "list_id": job.list_id,
                              "rows": job.processed_rows, "created": counts.created, "updated": counts.updated,
                              "skipped": counts.skipped, "invalid": counts.invalid})
    discard_upload(path)
    return job


def _csv_line(values) -> str:
    line = io.StringIO()
    csv.writer(line, ExportDialect).writerow(values)
    return line.getvalue()


def _import_rows(job_id: int, plan: ImportPlan, list_id: int, checkpoint: _Checkpoint,
                 claimed: ClaimedJob | None) -> Counts:
    counts, errors = checkpoint.counts, io.StringIO()
    error_writer = csv.writer(errors, ExportDialect)
    form = f"import:{plan.file_format}"
    batch: list[ValidRow] = []
    seen = checkpoint.seen
    for row in _checked_rows(plan, skip=seen):
        seen += 1
        if isinstance(row, RowError):
            counts.invalid += 1
            error_writer.writerow(safe_row((row.part, row.line, row.email, row.problem)))
        else:
            batch.append(row)
        if seen % BATCH_ROWS == 0:
            _commit_batch(job_id, list_id, form, batch, counts, seen, errors, claimed)
            batch = []
    _commit_batch(job_id, list_id, form, batch, counts, seen, errors, claimed)
    return counts


def _commit_batch(job_id, list_id, form, batch, counts: Counts, seen: int, errors: io.StringIO,
                  claimed: ClaimedJob | None) -> None:
    """Write a batch with the import's checkpoint (rows processed, counts, the batch's
    invalid rows) and the worker's, in one transaction: a resumed import starts after it."""
    with write_transaction() as session:
        if claimed:
            claimed.checkpoint(session, seen)
        if batch:
            write_batch(session, list_id, form, batch, counts, job_id)
        progress: dict[str, int | ColumnElement[str]] = dict(
            processed_rows=seen, created_count=counts.created, updated_count=counts.updated,
            skipped_count=counts.skipped, invalid_count=counts.invalid)
        if invalid_rows := errors.getvalue():
            progress["errors_csv"] = ImportJob.errors_csv + invalid_rows
            errors.seek(0)
            errors.truncate()
        session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**progress))


# An upload left at the dry run or the column mapping, or by a job that failed.
ABANDONED_UPLOAD_AGE = timedelta(days=1)


def discard_abandoned_uploads(session: Session) -> int:
    """Delete stored uploads older than a day that no analysis or import waiting or
    running needs; an import left at its dry run or column choice is then discarded."""
    needed = set(session.scalars(select(ImportJob.source_path).where(
        ImportJob.status.in_([ImportStatus.ANALYSING, ImportStatus.QUEUED, ImportStatus.RUNNING]))))
    cutoff = (utcnow() - ABANDONED_UPLOAD_AGE).timestamp()
    removed_paths = []
    for path in upload_dir().glob("*.upload"):
        try:
            abandoned = str(path) not in needed and path.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue  # its import finished and removed it meanwhile
        if abandoned:
            path.unlink(missing_ok=True)
            removed_paths.append(str(path))
    if removed_paths:
        session.execute(update(ImportJob).where(
            ImportJob.source_path.in_(removed_paths),
            ImportJob.status.in_([ImportStatus.NEEDS_COLUMNS, ImportStatus.ANALYSED]),
        ).values(status=ImportStatus.DISCARDED, finished_at=utcnow()))
    return len(removed_paths)


def discard_upload(path: str) -> None:
    """Delete an uploaded copy (once imported, or refused); a file named on the CLI is the user's own."""
    if Path(path).parent == upload_dir():
        Path(path).unlink(missing_ok=True)


def recent_jobs(session: Session, limit: int = 20) -> list[ImportJob]:
    return list(session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def request_opt_in(actor: Actor, job_id: int) -> int:
    """Ask the people a finished job created, whose subscription is still pending and
    who are not suppressed, to confirm: the normal confirmation mail, within the usual
    per-address throttle. Once per job; returns how many mails were queued."""
    with write_transaction() as session:
        job = get_or_raise(session, ImportJob, job_id, f"There is no import job {job_id}.", for_update=True)
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


def list_name(job: ImportJob) -> str | None:
    """The name of the list the import goes into; None once that list is deleted."""
    mailing_list = read_session().get(MailingList, job.list_id) if job.list_id is not None else None
    return mailing_list.name if mailing_list else None


def get_job(job_id: int) -> ImportJob:
    job = get_or_raise(read_session(), ImportJob, job_id, f"There is no import job {job_id}.")
    return job
