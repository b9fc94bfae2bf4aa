"""Roster's backup file: one zip holding each table's rows as JSON lines
(services/data/snapshot.py's portable form, tables in dependency order) and a manifest.

One format for both databases, because it restores into either: a SQLite backup restores
into PostgreSQL and back, and a file outlives the database it came from. (A PostgreSQL
installation may also take pg_dump's and the server's own backups: docs/deploy.md.)

The manifest says what a restore needs to trust the file: the schema revision, when it
was taken, each table's columns (name and kind), row count and SHA-256 of its lines, and
one SHA-256 over those (the `sha256sum` listing of the table files), so a file altered
or cut short is refused.
"""

import hashlib
import json
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from models.base import utcnow
from services.core.errors import DomainError
from services.data.loading import LoadFailed, TableRows, code_revision
from services.data.snapshot import KINDS, Column, columns_of, snapshot, tables

FORMAT, VERSION = "roster-backup", 1
MANIFEST = "manifest.json"
# Rows written to the zip at a time (one join, one hash update, one write).
WRITE_BATCH = 1000


class BackupRefused(DomainError):
    """The file is not a Roster backup this code can read, or cannot be written."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    manifest: dict

    @property
    def rows(self) -> int:
        return sum(table["rows"] for table in self.manifest["tables"])


def _listing_digest(tables: list[dict]) -> str:
    listing = "".join(f"{table['sha256']}  {table['file']}\n" for table in tables)
    return hashlib.sha256(listing.encode()).hexdigest()


def _write_table(archive: zipfile.ZipFile, name: str, rows: Iterator[list]) -> tuple[int, str]:
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
    digest, count = hashlib.sha256(), 0
    batch: list[str] = []
    with archive.open(name, "w", force_zip64=True) as entry:
        def flush() -> None:
            chunk = ("\n".join(batch) + "\n").encode()
            digest.update(chunk)
            entry.write(chunk)
            batch.clear()

        for row in rows:
            batch.append(encode(row))
            count += 1
            if len(batch) == WRITE_BATCH:
                flush()
        if batch:
            flush()
    return count, digest.hexdigest()


def _create_private(path: Path):
    """A new file only its owner can read: it holds every reader's address."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupRefused(f"{path} exists: choose a new file name") from None
    except OSError as error:
        raise BackupRefused(f"cannot write {path}: {error.strerror}") from None
    return os.fdopen(descriptor, "wb")


def write_backup(engine: Engine, path: str | os.PathLike) -> BackupResult:
    """Write a backup of the whole database to `path` (a new file) from one consistent
    snapshot; the database goes on taking writes meanwhile. The file appears complete or
    not at all: it is written beside its name and renamed when done."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    if path.exists():
        raise BackupRefused(f"{path} exists: choose a new file name")
    try:
        with _create_private(partial) as file, zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED,
                                                               compresslevel=1) as archive:
            with snapshot(engine, code_revision()) as snap:
                entries = []
                for table in tables():
                    entry = f"tables/{table.name}.jsonl"
                    count, sha256 = _write_table(archive, entry, snap.rows(table))
                    entries.append({"name": table.name, "file": entry, "rows": count, "sha256": sha256,
                                    "columns": [[c.name, c.kind] for c in columns_of(table)]})
                revision = snap.revision
            manifest = {"format": FORMAT, "version": VERSION, "created_at": utcnow().isoformat(),
                        "schema_revision": revision, "database": engine.dialect.name,
                        "tables": entries, "sha256": _listing_digest(entries)}
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(path, path.stat().st_size, manifest)


# --- reading ---------------------------------------------------------------------------------

def _checked_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise BackupRefused(f"not a Roster backup: no {MANIFEST}") from None
    except ValueError as error:
        raise BackupRefused(f"the manifest is not JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused("not a Roster backup")
    if manifest.get("version") != VERSION:
        raise BackupRefused(f"backup format version {manifest.get('version')!r}: this Roster reads {VERSION}")
    try:
        entries = manifest["tables"]
        for table in entries:
            assert isinstance(table["name"], str) and isinstance(table["file"], str)
            assert isinstance(table["rows"], int) and table["rows"] >= 0
            assert all(isinstance(name, str) and kind in KINDS for name, kind in table["columns"])
        assert isinstance(manifest["schema_revision"], str)
    except (KeyError, TypeError, ValueError, AssertionError):
        raise BackupRefused("the manifest is damaged") from None
    if _listing_digest(entries) != manifest.get("sha256"):
        raise BackupRefused("the manifest's checksums do not match its own checksum: the file was altered")
    return manifest


def _rows(archive: zipfile.ZipFile, table: dict) -> Iterator[list]:
    """The table's rows; at the end, its lines' SHA-256 must be the manifest's (the load
    that reads them then rolls back)."""
    digest = hashlib.sha256()
    try:
        with archive.open(table["file"]) as lines:
            for line in lines:
                digest.update(line)
                yield json.loads(line)
    except (KeyError, zipfile.BadZipFile, ValueError, EOFError) as error:
        raise LoadFailed(f"table {table['name']}: the backup is damaged ({error})") from None
    if digest.hexdigest() != table["sha256"]:
        raise LoadFailed(f"table {table['name']}: checksum differs from the manifest's; the file was altered")


@dataclass
class OpenBackup:
    manifest: dict
    tables: list[TableRows]

    @property
    def revision(self) -> str:
        return self.manifest["schema_revision"]


@contextmanager
def open_backup(path: str | os.PathLike) -> Iterator[OpenBackup]:
    """The backup's manifest and its tables' rows, read as they are used."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BackupRefused(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise BackupRefused(f"{path} is not a Roster backup ({error})") from None
    with archive:
        manifest = _checked_manifest(archive)
        yield OpenBackup(manifest, [
            TableRows(table["name"], [Column(name, kind) for name, kind in table["columns"]],
                      _rows(archive, table), table["rows"])
            for table in manifest["tables"]])
