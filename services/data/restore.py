"""`flask data restore` and `flask data move`: a backup file, or the current database,
loaded into an empty database (services/data/loading.py does the loading for both)."""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from services.core.transactions import configure_engine, database_engine, read_session
from services.data.backup import open_backup
from services.data.loading import LoadFailed, LoadRefused, TableRows, code_revision, load, migrate_to, prepare
from services.data.snapshot import columns_of, snapshot, tables


@dataclass(frozen=True)
class Loaded:
    revision: str
    counts: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def restore(path: str, *, force: bool = False) -> Loaded:
    """Load a backup into the current database, which must be empty unless `force` (its
    rows are then replaced). The database gets the backup's schema revision first and the
    code's after, so a backup from an older Roster restores too; one from a newer is refused."""
    read_session().close()
    with open_backup(path) as backup:
        prepare(database_engine(), backup.revision, backup.tables, force=force)
        counts = load(database_engine(), backup.tables)
    if backup.revision != code_revision():
        migrate_to(database_engine(), "head")
    return Loaded(backup.revision, counts)


def target_url(url: str):
    """The URL with Roster's PostgreSQL driver named (psycopg 3) when it names none."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LoadRefused(f"not a database URL: {url!r}") from None
    return parsed.set(drivername="postgresql+psycopg") if parsed.drivername == "postgresql" else parsed


def move(url: str) -> Loaded:
    """Copy every table of the current database into the empty database at `url` (either
    kind), from one consistent snapshot, keeping every id. Run it with the web and the
    worker stopped, or rows written meanwhile stay behind. A move that fails leaves the
    target empty, and may be run again."""
    target_address = target_url(url)
    if target_address.render_as_string(hide_password=False) == \
            database_engine().url.render_as_string(hide_password=False):
        raise LoadRefused("the target is the current database")
    try:
        target = create_engine(target_address)
    except (ArgumentError, NoSuchModuleError) as error:
        raise LoadRefused(f"not a database Roster can use: {error}") from None
    configure_engine(target, current_app.config["SQLITE_BUSY_TIMEOUT_MS"])
    read_session().close()
    try:
        with snapshot(database_engine(), code_revision()) as snap:
            sources = [TableRows(table.name, columns_of(table), snap.rows(table), snap.count(table))
                       for table in tables()]
            prepare(target, snap.revision, sources)
            counts = load(target, sources)
        return Loaded(snap.revision, counts)
    except OperationalError as error:
        raise LoadFailed(f"the target database: {error.orig}") from None
    finally:
        target.dispose()
