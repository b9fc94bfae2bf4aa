"""Export and import benchmarks against plain-Python baselines, measured in one run.

    python bench/export_import.py [--rows 1000000] [--workdir DIR]

Builds a SQLite database of N confirmed subscribers (each with opt-in and confirm
consent events) and a Mailchimp-format CSV of N new members, then times, each in
its own subprocess (peak RSS from ru_maxrss):
  export: Roster's streamed export vs a sqlite3 cursor + csv.writer loop over the
          same SQL (the rows Roster selects, formatted the same way), in turns;
  import: Roster's import job, queued and run by the worker's runner (as `flask
          worker` runs it), its progress sampled from another connection while it
          runs, vs csv.reader + email-validator + executemany of the same rows
          (subscriber, subscription, opt-in and confirm events), side by side.
Times start once the app is up (as in a running server); RSS includes it.
Prints a markdown table. Targets: export <= 1.3x the baseline's time with peak RSS
< 150 MB; import speed >= 0.5x the baseline's.
"""

import csv
import json
import os
import random
import resource
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Figure, measure_in_child, run_from_command_line  # noqa: E402  (after the path is set)

BATCH = 1000
MAILCHIMP_HEADER = ["Email Address", "First Name", "Last Name", "Address", "Phone Number", "MEMBER_RATING",
                    "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF",
                    "DSTOFF", "TIMEZONE", "CC", "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"]


def make_app(database: Path):
    os.environ.setdefault("APP_ENV", "testing")
    from app import create_app

    return create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                       "IMPORT_MAX_BYTES": 10 * 1024 ** 3})


def empty_database(database: Path) -> None:
    from extensions import db
    from models import MailingList

    for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)
    app = make_app(database)
    with app.app_context():
        db.create_all()
        db.session.add(MailingList(slug="updates", name="Updates", is_default=True))
        db.session.commit()
        db.engine.dispose()


# The export's database, made in SQL: far quicker than a million rows through executemany.
FILL_SQL = [
    "WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < :rows) "
    "INSERT INTO subscribers (id, email, full_name, created_at, link_key) "
    "SELECT n, 'reader' || n || '@example.com', 'Reader Number' || n, :stamp, lower(hex(randomblob(8))) FROM numbers",
    "INSERT INTO subscriptions (subscriber_id, list_id, status, created_at, status_changed_at, requested_at, "
    "confirmed_at, source_url, link_key) SELECT id, 1, 'confirmed', :stamp, :stamp, :stamp, :stamp, "
    "'https://news.example/article', lower(hex(randomblob(8))) FROM subscribers",
    "INSERT INTO consent_events (subscriber_id, list_id, action, occurred_at, form, ip) "
    "SELECT id, 1, action, :stamp, 'hosted', '192.0.2.' || (id % 250) FROM subscribers, "
    "(SELECT 'subscribe_requested' AS action UNION ALL SELECT 'confirmed') ORDER BY id",
]


def fill_database(database: Path, rows: int) -> None:
    """N subscribers, subscriptions and two consent events each."""
    empty_database(database)
    connection = sqlite3.connect(database)
    with connection:
        for sql in FILL_SQL:
            connection.execute(sql, {"rows": rows, "stamp": "2024-01-02 03:04:05.000000"})
    connection.close()


# As in a real list, addresses share domains unevenly: 5,000 of them, the k-th most common
# 1/k as often as the first (which then has 11 % of the members), one in a hundred of them
# international; Roster keeps the answers for 4,096 domains.
DOMAINS = 5000


def member_domains(rows: int) -> list[str]:
    domains = [f"{'bücher' if k % 100 == 0 else 'mail'}{k}.example.org" for k in range(1, DOMAINS + 1)]
    weights = [1 / k for k in range(1, DOMAINS + 1)]
    return random.Random(5).choices(domains, weights=weights, k=rows)  # noqa: S311 (test data)


def write_mailchimp_csv(path: Path, rows: int) -> None:
    """Every member with their own opt-in and confirm times and IPs, as in a real export."""
    start = datetime(2020, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target, quoting=csv.QUOTE_ALL)
        writer.writerow(MAILCHIMP_HEADER)
        for n, domain in enumerate(member_domains(rows)):
            optin = start + timedelta(seconds=97 * n)
            confirm = f"{optin + timedelta(seconds=150):%Y-%m-%d %H:%M:%S}"
            ip = f"198.51.{n // 250 % 250}.{n % 250}"
            writer.writerow([f"new.member{n}@{domain}", "New", f"Member{n}", "", "", "2",
                             f"{optin:%Y-%m-%d %H:%M:%S}", ip, confirm, ip,
                             "", "", "", "", "", "", "", confirm, str(n), f"e{n:x}", "", ""])


# --- the measured parts, each run in its own process ------------------------------------------

def export_roster(database: Path, output: Path) -> tuple[int, float]:
    from services.core.audit import CLI
    from services.data.exports import SubscriberFilters, export_subscribers

    with make_app(database).app_context():
        started = time.perf_counter()  # the app is up, as in a running server
        stream = export_subscribers(SubscriberFilters(), CLI)
        with open(output, "wb") as target:
            for chunk in stream:
                target.write(chunk)
        return stream.rows_written, time.perf_counter() - started


def export_sql(database: Path) -> str:
    from sqlalchemy.dialects import sqlite

    from services.data.exports import export_statement

    with make_app(database).app_context():
        return str(export_statement(None, ()).compile(dialect=sqlite.dialect(),
                                                     compile_kwargs={"literal_binds": True}))


def export_baseline(database: Path, output: Path, sql: str) -> tuple[int, float]:
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    rows = 0
    with open(output, "w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target)
        for row in connection.execute(sql):
            writer.writerow(row)
            rows += 1
    return rows, time.perf_counter() - started


PROGRESS_SAMPLE_SECONDS = 0.5


def import_roster(database: Path, source: Path) -> tuple[dict, float]:
    """The import as the console and `subscribers import --queue` run it: queued, then run
    by the worker. Another connection reads the job's progress meanwhile, as the console does."""
    import threading

    from extensions import db
    from models import ImportJob
    from services.core.audit import CLI
    from services.data import import_steps
    from services.worker.runner import Worker

    app = make_app(database)
    with app.app_context():
        started = time.perf_counter()
        import_job_id, job_id = import_steps.queue_import(str(source), CLI)
        samples: list[int] = []
        finished = threading.Event()

        def sample() -> None:
            reader = sqlite3.connect(database)
            while not finished.wait(PROGRESS_SAMPLE_SECONDS):
                samples.append(reader.execute("SELECT progress_done FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])
            reader.close()

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            Worker(app).run_job()
        finally:
            finished.set()
            sampler.join()
        elapsed = time.perf_counter() - started
        result = {"created": db.session.get(ImportJob, import_job_id).created_count,
                  "progress_samples": len(samples), "distinct_progress": len({done for done in samples if done > 0}),
                  "midway": samples[len(samples) // 2] if samples else 0}
        return result, elapsed


def import_baseline(database: Path, source: Path) -> tuple[int, float]:
    """The same rows written by hand: subscriber, subscription, opt-in and confirm events."""
    from email_validator import EmailNotValidError, validate_email

    started = time.perf_counter()
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA synchronous = NORMAL")
    created, batch = 0, []
    with open(source, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            try:
                email = validate_email(row[0], check_deliverability=False).normalized
            except EmailNotValidError:
                continue
            batch.append((email, f"{row[1]} {row[2]}", row[6], row[7], row[8], row[9]))
            if len(batch) == BATCH:
                created += _insert(connection, batch)
                batch = []
    return created + _insert(connection, batch), time.perf_counter() - started


def _insert(connection: sqlite3.Connection, batch: list) -> int:
    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    connection.execute("BEGIN")
    # Link keys as Roster's import makes them, one per row.
    connection.executemany(
        "INSERT OR IGNORE INTO subscribers (email, full_name, created_at, link_key) VALUES (?, ?, ?, ?)",
        [(email, name, now, secrets.token_urlsafe(12)) for email, name, *_ in batch])
    marks = ",".join("?" * len(batch))
    ids = dict(connection.execute(f"SELECT lower(email), id FROM subscribers WHERE lower(email) IN ({marks})",
                                  [row[0].lower() for row in batch]))
    connection.executemany(
        "INSERT OR IGNORE INTO subscriptions (subscriber_id, list_id, status, created_at, status_changed_at,"
        " requested_at, confirmed_at, link_key) VALUES (?, 1, 'confirmed', ?, ?, ?, ?, ?)",
        [(ids[row[0].lower()], now, row[4], row[2], row[4], secrets.token_urlsafe(12)) for row in batch])
    connection.executemany(
        "INSERT OR IGNORE INTO consent_events (subscriber_id, list_id, action, occurred_at, form, ip)"
        " VALUES (?, 1, ?, ?, 'import', ?)",
        [(ids[row[0].lower()], action, moment, ip) for row in batch
         for action, moment, ip in (("imported_optin", row[2], row[3]), ("imported_confirm", row[4], row[5]))])
    connection.execute("COMMIT")
    return len(batch)


MEASURES = {"export-roster": export_roster, "export-baseline": export_baseline,
            "import-roster": import_roster, "import-baseline": import_baseline}


def measure(name: str, *args: str) -> dict:
    return measure_in_child(__file__, name, *args)


def side_by_side(ours: tuple[str, ...], baseline: tuple[str, ...], scratch: Path) -> list[dict]:
    """Ours and its baseline at once, one process a core: a slow spell on a shared
    machine then falls on both, and the run takes half as long. Whichever ends first runs
    again, unmeasured and into `scratch`, until the other is done: each has a neighbour
    all the way. For the import, whose baseline is Python as much as ours is (csv,
    email-validator)."""
    parts = (ours, baseline)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(measure, *part) for part in parts]
        done, _ = wait(runs, return_when=FIRST_COMPLETED)
        still_running = runs[1] if runs[0] in done else runs[0]
        again = parts[0] if runs[0] in done else parts[1]
        while not still_running.done():
            empty_database(scratch)
            neighbour = subprocess.Popen([sys.executable, __file__, "--measure", again[0], str(scratch), *again[2:]],
                                         cwd=ROOT, stdout=subprocess.DEVNULL)
            while neighbour.poll() is None and not still_running.done():
                time.sleep(0.2)
            neighbour.kill()
            neighbour.wait()
        return [run.result() for run in runs]


def in_turns(ours: tuple[str, ...], baseline: tuple[str, ...]) -> list[dict]:
    """Ours, the baseline, the baseline, ours; each one's mean time. For the export,
    whose baseline is mostly C (SQLite, csv) and slowed far more than ours by a
    neighbour on the other core, so the two cannot share the machine."""
    runs = [measure(*part) for part in (ours, baseline, baseline, ours)]
    return [{**runs[first], "seconds": (runs[first]["seconds"] + runs[second]["seconds"]) / 2,
             "peak_mb": max(runs[first]["peak_mb"], runs[second]["peak_mb"])}
            for first, second in ((0, 3), (1, 2))]


def run_measure(name: str, args: list[str]) -> None:
    result, elapsed = MEASURES[name](*(Path(arg) if index < 2 else arg for index, arg in enumerate(args)))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "result": result}))


def main() -> None:
    run_from_command_line(__doc__, report, run_measure)


def report(workdir: Path, rows: int) -> list[Figure]:
    filled, source = workdir / "filled.sqlite3", workdir / "mailchimp.csv"
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:  # two independent builds, before anything is timed
        for built in [pool.submit(fill_database, filled, rows), pool.submit(write_mailchimp_csv, source, rows)]:
            built.result()
    print(f"built {rows:,} rows in {time.perf_counter() - started:.1f}s", file=sys.stderr)

    sql = export_sql(filled)
    ours, base = in_turns(("export-roster", str(filled), str(workdir / "roster.csv")),
                          ("export-baseline", str(filled), str(workdir / "baseline.csv"), sql))
    assert ours["result"] == base["result"] == rows, (ours, base)
    export_size_mb = (workdir / "roster.csv").stat().st_size / 1024 ** 2

    fresh = []
    for name in ("roster-import.sqlite3", "baseline-import.sqlite3"):
        empty_database(workdir / name)
        fresh.append(str(workdir / name))
    ours_in, base_in = side_by_side(("import-roster", fresh[0], str(source)),
                                    ("import-baseline", fresh[1], str(source)), workdir / "neighbour.sqlite3")
    assert ours_in["result"]["created"] == base_in["result"] == rows, (ours_in, base_in)
    progress = ours_in["result"]

    export_ratio = ours["seconds"] / base["seconds"]
    import_speed = base_in["seconds"] / ours_in["seconds"]
    return [
        Figure(name=f"export {rows:,} subscribers to CSV ({export_size_mb:.0f} MB), SQLite",
               ours=f"{ours['seconds']:.1f} s, peak RSS {ours['peak_mb']:.0f} MB",
               baseline=f"sqlite3 cursor + csv.writer: {base['seconds']:.1f} s",
               ratio=export_ratio, target="≤ 1.3× the time, peak RSS < 150 MB",
               met=export_ratio <= 1.3 and ours["peak_mb"] < 150),
        Figure(name=f"import {rows:,} Mailchimp rows by the worker, SQLite",
               ours=f"{ours_in['seconds']:.1f} s ({rows / ours_in['seconds']:,.0f} rows/s), "
                    f"peak RSS {ours_in['peak_mb']:.0f} MB; progress read {progress['progress_samples']} times "
                    f"while it ran, {progress['distinct_progress']} different values "
                    f"({progress['midway']:,} rows at the middle read)",
               baseline=f"csv + email-validator + executemany: {base_in['seconds']:.1f} s",
               ratio=import_speed, target="≥ 0.5× the speed, progress seen advancing",
               met=import_speed >= 0.5 and progress["distinct_progress"] >= 2),
    ]


def run() -> list[Figure]:
    """For `make bench` (bench/run.py)."""
    with tempfile.TemporaryDirectory(prefix="roster-bench-") as workdir:
        return report(Path(workdir), int(os.environ.get("BENCH_EXPORT_ROWS", "1000000")))


if __name__ == "__main__":
    main()
