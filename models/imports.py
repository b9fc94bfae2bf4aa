"""Import jobs: one uploaded file being brought in, with progress for the console."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class ImportStatus(enum.StrEnum):
    # Uploaded; the worker is checking the file (the dry run).
    ANALYSING = "analysing"
    # The file has no email column the import recognises: staff choose the columns.
    NEEDS_COLUMNS = "needs_columns"
    # The dry run is ready for staff to start the import or discard the file.
    ANALYSED = "analysed"
    # The file is malformed; nothing was written and the file is gone.
    REFUSED = "refused"
    DISCARDED = "discarded"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportJob(Base):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    list_id: Mapped[int | None] = mapped_column(ForeignKey("mailing_lists.id", ondelete="SET NULL"))
    # The stored file the job reads, and the name the person gave it.
    source_path: Mapped[str] = mapped_column(String(1000))
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(40))
    column_map: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[ImportStatus] = mapped_column(
        Enum(ImportStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=ImportStatus.QUEUED,
    )
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    invalid_count: Mapped[int] = mapped_column(default=0)
    # The worker's job for the import's current step (its analysis, then the import); a
    # plain id, not a reference, so that old jobs can be forgotten without touching imports.
    worker_job_id: Mapped[int | None]
    # The dry run's report (or, needing columns, the file's columns), for the review page.
    analysis: Mapped[dict | None] = mapped_column(JSON)
    # The invalid rows as a CSV (row number, email, reason) for staff to download.
    errors_csv: Mapped[str] = mapped_column(Text, default="")
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # When staff asked the job's pending people to confirm (at most once per job).
    opt_in_requested_at: Mapped[datetime | None]
