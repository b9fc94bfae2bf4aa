"""Delivery: 10,000 queued confirmations drained by one and by two `flask outbox work`
processes into an SMTP sink, against raw smtplib sending the same mails over one
reused connection, in the same run."""

import os
import smtplib
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import psycopg

from bench.common import BIN, ROOT, Figure, flask_cli, fresh_postgres_database

MESSAGES = int(os.environ.get("BENCH_DELIVERY_MESSAGES", "10000"))
SMTP_PORT = 2591


def queue_confirmations(env: dict, raw_url: str) -> None:
    """One real confirmation through the service, copied to MESSAGES rows in SQL."""
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "demo", "seed")
    subprocess.run([sys.executable, "-c", (
        "from app import create_app\nfrom services.subscriptions import subscriptions\n"
        "from services.subscriptions.consent import ConsentOrigin\n"
        "with create_app().app_context():\n"
        "    subscriptions.subscribe('template@example.com', 'Bench Reader', ConsentOrigin(form='bench'))\n")],
        cwd=ROOT, env={**os.environ, **env}, check=True)
    with psycopg.connect(raw_url) as connection:
        connection.execute("""
            INSERT INTO outbox_messages (message_id, recipient, recipient_name, category, subject, text_body,
                html_body, headers, attachments, status, attempts, next_attempt_at, created_at)
            SELECT '<bench-' || g || '@roster.test>', 'reader' || g || '@example.com', t.recipient_name,
                   t.category, t.subject, t.text_body, t.html_body, t.headers, t.attachments, 'queued', 0,
                   now(), now()
            FROM outbox_messages t, generate_series(2, %s) g WHERE t.id = (SELECT min(id) FROM outbox_messages)
        """, (MESSAGES,))


def reset_queue(raw_url: str) -> None:
    with psycopg.connect(raw_url) as connection:
        connection.execute("UPDATE outbox_messages SET status='queued', attempts=0, sent_at=NULL, "
                           "locked_until=NULL, next_attempt_at=now()")


def rows_for_baseline(raw_url: str) -> list[tuple]:
    with psycopg.connect(raw_url) as connection:
        return connection.execute(
            "SELECT message_id, recipient, subject, text_body, html_body, headers FROM outbox_messages"
        ).fetchall()


def start_sink(path: Path) -> subprocess.Popen:
    sink = subprocess.Popen([sys.executable, "-m", "bench.smtp_counter", str(SMTP_PORT), str(path)], cwd=ROOT)
    time.sleep(1.0)
    return sink


def received(path: Path) -> tuple[int, int]:
    ids = path.read_text().split()
    return len(ids), len(set(ids))


def time_workers(env: dict, count: int) -> float:
    started = time.perf_counter()
    workers = [subprocess.Popen([str(BIN / "flask"), "--app", "app", "outbox", "work", "--once"], cwd=ROOT,
                                env={**os.environ, **env}, stdout=subprocess.DEVNULL) for _ in range(count)]
    for worker in workers:
        if worker.wait() != 0:
            raise RuntimeError("outbox worker failed")
    return time.perf_counter() - started


def time_baseline(rows: list[tuple]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", SMTP_PORT) as connection:
        for message_id, recipient, subject, text, html, headers in rows:
            message = EmailMessage(policy=SMTP)
            message["From"] = "Roster <roster@localhost>"
            message["To"] = recipient
            message["Subject"] = subject
            message["Message-ID"] = message_id
            for name, value in headers.items():
                message[name] = value
            message.set_content(text)
            message.add_alternative(html, subtype="html")
            connection.send_message(message)
    return time.perf_counter() - started


def run() -> list[Figure]:
    database_url = fresh_postgres_database("roster_bench_delivery")
    raw_url = database_url.replace("+psycopg", "")
    env = {"APP_ENV": "development", "DATABASE_URL": database_url, "MAIL_BACKEND": "smtp",
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(SMTP_PORT), "OUTBOX_BATCH_SIZE": "100"}
    queue_confirmations(env, raw_url)
    rows = rows_for_baseline(raw_url)
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label, action in (("baseline", lambda: time_baseline(rows)),
                              ("one", lambda: time_workers(env, 1)),
                              ("two", lambda: time_workers(env, 2))):
            reset_queue(raw_url)
            log = Path(tmp) / f"{label}.log"
            log.touch()
            sink = start_sink(log)
            try:
                seconds = action()
                time.sleep(0.5)
            finally:
                # The sink writes each Message-ID as it arrives (line-buffered): no graceful stop needed.
                sink.kill()
                sink.wait()
            results[label] = (seconds, *received(log))

    base_rate = MESSAGES / results["baseline"][0]
    figures = []
    for label, workers in (("one", 1), ("two", 2)):
        seconds, total, unique = results[label]
        rate = MESSAGES / seconds
        complete = total == unique == MESSAGES
        target = ("≥ 0.7×, nothing lost or sent twice" if workers == 1
                  else "faster than one worker, nothing lost or sent twice")
        met = complete and (rate / base_rate >= 0.7 if workers == 1 else seconds < results["one"][0])
        figures.append(Figure(
            name=f"deliver {MESSAGES:,} confirmations, {workers} outbox worker{'s' if workers > 1 else ''}, PostgreSQL",
            ours=f"{rate:.0f} mails/s ({seconds:.1f} s), {total:,} received, {unique:,} unique",
            baseline=f"raw smtplib, one connection: {base_rate:.0f} mails/s",
            ratio=rate / base_rate, target=target, met=met,
        ))
    return figures


if __name__ == "__main__":
    for figure in run():
        print(figure)
