"""The record of each scheduled backup, for the console and /healthz."""

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class BackupRun(Base):
    """One run of the worker's scheduled backup: where it wrote, how big, or why it failed."""

    __tablename__ = "backup_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    file: Mapped[str] = mapped_column(String(1000))
    ok: Mapped[bool]
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    rows: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
