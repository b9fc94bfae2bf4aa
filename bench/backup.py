"""Backup and move benchmarks against the databases' own copies, measured in one run.

    python bench/backup.py [--rows 1000000] [--workdir DIR]

Builds a SQLite database of N confirmed subscribers, each with a subscription and two
consent events (as bench/export_import.py does, in SQL), then times, each in its own
process (peak RSS from ru_maxrss):
  backup, in turns (ours, baseline, baseline, ours):
          `flask data backup`'s service (one read transaction, every table as JSON lines
          into a zip, checksummed) vs SQLite's online backup API (Connection.backup, what
          `sqlite3 .backup` runs) into a file;
  move, once each (a million rows into PostgreSQL take minutes):
          `flask data move` into a fresh PostgreSQL database (its schema by the
          migrations, rows by COPY, ids kept, sequences moved, counts checked) vs a plain
          sqlite3 cursor feeding psycopg's COPY of the same tables into the same schema,
          made beforehand and not timed.
Times start once the app is up; RSS includes it.
"""

import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Figure, fresh_postgres_database, measure_in_child, run_from_command_line  # noqa: E402  (after the path is set)
from bench.export_import import fill_database, make_app  # noqa: E402

PG_DATABASES = ("roster_bench_move", "roster_bench_copy")


def backup_roster(database: Path, output: Path) -> tuple[int, float]:
    from extensions import db
    from services.data.backup import write_backup

    output.unlink(missing_ok=True)
    with make_app(database).app_context():
        started = time.perf_counter()
        result = write_backup(db.engine, output)
        return result.rows, time.perf_counter() - started


def backup_baseline(database: Path, output: Path) -> tuple[int, float]:
    output.unlink(missing_ok=True)
    started = time.perf_counter()
    source, target = sqlite3.connect(database), sqlite3.connect(output)
    source.backup(target)
    target.close()
    source.close()
    return output.stat().st_size, time.perf_counter() - started


def move_roster(database: Path, url: str) -> tuple[int, float]:
    from services.data.restore import move

    with make_app(database).app_context():
        started = time.perf_counter()
        return move(url).rows, time.perf_counter() - started


def copy_baseline(database: Path, url: str) -> tuple[int, float]:
    """Each table's rows from a plain cursor straight into COPY, in dependency order."""
    import psycopg

    from models import Base

    with make_app(database).app_context():
        tables = [(table.name, [column.name for column in table.columns]) for table in Base.metadata.sorted_tables]
    started = time.perf_counter()
    rows = 0
    source = sqlite3.connect(database)
    with psycopg.connect(url.replace("+psycopg", "")) as target, target.cursor() as cursor:
        for name, columns in tables:
            listed = ", ".join(f'"{column}"' for column in columns)
            with cursor.copy(f'COPY "{name}" ({listed}) FROM STDIN') as copy:
                for row in source.execute(f'SELECT {listed} FROM "{name}"'):
                    copy.write_row(row)
                    rows += 1
    source.close()
    return rows, time.perf_counter() - started


def schema_only(url: str) -> None:
    """The models' tables in a fresh PostgreSQL database, for the baseline's COPY."""
    from sqlalchemy import create_engine

    from models import Base

    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


MEASURES = {"backup-roster": backup_roster, "backup-baseline": backup_baseline,
            "move-roster": move_roster, "move-baseline": copy_baseline}


def measure(name: str, *args: str) -> dict:
    return measure_in_child(__file__, name, *args)


def run_measure(name: str, args: list[str]) -> None:
    result, elapsed = MEASURES[name](Path(args[0]), Path(args[1]) if name.startswith("backup") else args[1])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "result": result}))


def fresh_targets() -> tuple[str, str]:
    move_url, copy_url = (fresh_postgres_database(name) for name in PG_DATABASES)
    schema_only(copy_url)
    return move_url, copy_url


def report(workdir: Path, rows: int) -> list[Figure]:
    filled = workdir / "filled.sqlite3"
    started = time.perf_counter()
    fill_database(filled, rows)
    print(f"built {rows:,} subscribers in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    ours_file, base_file = workdir / "roster.zip", workdir / "sqlite-backup.sqlite3"

    backups = [measure(*part) for part in (("backup-roster", str(filled), str(ours_file)),
                                            ("backup-baseline", str(filled), str(base_file)),
                                            ("backup-baseline", str(filled), str(base_file)),
                                            ("backup-roster", str(filled), str(ours_file)))]
    move_url, copy_url = fresh_targets()  # once each: a million rows into PostgreSQL take minutes
    moves = [measure("move-roster", str(filled), move_url), measure("move-baseline", str(filled), copy_url)]
    for name in PG_DATABASES:
        fresh_postgres_database(name)  # emptied: a million rows need not wait for the next run

    def mean(runs: list[dict], first: int, second: int) -> dict:
        return {"seconds": (runs[first]["seconds"] + runs[second]["seconds"]) / 2,
                "peak_mb": max(runs[first]["peak_mb"], runs[second]["peak_mb"]), "result": runs[first]["result"]}

    backup_ours, backup_base = mean(backups, 0, 3), mean(backups, 1, 2)
    move_ours, move_base = moves
    assert move_ours["result"] == move_base["result"] == backup_ours["result"], (move_ours, move_base, backup_ours)
    total = backup_ours["result"]
    backup_ratio = backup_ours["seconds"] / backup_base["seconds"]
    move_ratio = move_ours["seconds"] / move_base["seconds"]
    return [
        Figure(name=f"backup {rows:,} subscribers ({total:,} rows), SQLite, while it could take writes",
               ours=f"{backup_ours['seconds']:.1f} s, {ours_file.stat().st_size / 2**20:.0f} MB zip, "
                    f"peak RSS {backup_ours['peak_mb']:.0f} MB",
               baseline=f"SQLite's online backup API (sqlite3 .backup): {backup_base['seconds']:.1f} s, "
                        f"{backup_base['result'] / 2**20:.0f} MB file",
               ratio=backup_ratio, target="memory flat (peak RSS < 150 MB); the time is reported",
               met=backup_ours["peak_mb"] < 150),
        Figure(name=f"move {rows:,} subscribers ({total:,} rows) SQLite → PostgreSQL",
               ours=f"{move_ours['seconds']:.1f} s (schema by the migrations, counts checked, ANALYZE), "
                    f"peak RSS {move_ours['peak_mb']:.0f} MB",
               baseline=f"sqlite3 cursor → psycopg COPY of the same tables: {move_base['seconds']:.1f} s, "
                        f"peak RSS {move_base['peak_mb']:.0f} MB",
               ratio=move_ratio, target="memory flat (peak RSS < 150 MB); the time is reported",
               met=move_ours["peak_mb"] < 150),
    ]


def main() -> None:
    run_from_command_line(__doc__, report, run_measure)


def run() -> list[Figure]:
    """For `make bench` (bench/run.py)."""
    with tempfile.TemporaryDirectory(prefix="roster-bench-") as workdir:
        return report(Path(workdir), int(os.environ.get("BENCH_BACKUP_ROWS", "1000000")))


if __name__ == "__main__":
    main()
