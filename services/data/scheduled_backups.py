"""The worker's daily backup into BACKUP_DIR, the newest BACKUP_KEEP kept, each run
recorded for the console and /healthz."""

import logging
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import BackupRun
from models.base import utcnow
from services.core.transactions import database_engine, write_transaction
from services.data.backup import write_backup

log = logging.getLogger(__name__)
PREFIX, SUFFIX = "roster-backup-", ".zip"
ERROR_LENGTH = 2000


def take_backup() -> BackupRun:
    """Back up into BACKUP_DIR, record the run, and remove the oldest files past
    BACKUP_KEEP. A failure is recorded and raised (the schedule shows it too)."""
    directory = Path(current_app.config["BACKUP_DIR"])
    started = utcnow()
    path = directory / f"{PREFIX}{started:%Y%m%dT%H%M%S%fZ}{SUFFIX}"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        result = write_backup(database_engine(), path)
    except Exception as failure:
        _record(BackupRun(started_at=started, finished_at=utcnow(), file=str(path), ok=False,
                          error=f"{type(failure).__name__}: {failure}"[:ERROR_LENGTH]))
        raise
    run = _record(BackupRun(started_at=started, finished_at=utcnow(), file=str(path), ok=True,
                            size_bytes=result.size_bytes, rows=result.rows))
    remove_old(directory, current_app.config["BACKUP_KEEP"])
    return run


def _record(run: BackupRun) -> BackupRun:
    with write_transaction() as session:
        session.add(run)
    return run


def remove_old(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` scheduled backups (their names sort by time), and
    what a worker stopped mid-backup left; the files removed."""
    backups = sorted(directory.glob(f"{PREFIX}*{SUFFIX}"))
    removed = backups[:-keep] + sorted(directory.glob(f"{PREFIX}*{SUFFIX}.partial"))
    for path in removed:
        path.unlink(missing_ok=True)
        log.info("removed old backup %s", path)
    return removed


def last_run(session: Session) -> BackupRun | None:
    return session.scalar(select(BackupRun).order_by(BackupRun.id.desc()).limit(1))
