"""Staff pages at a million subscribers: p50/p95 of the dashboard, the subscriber
list (first page, a deep page) and searches, each against GET /healthz on the same
server in the same run (the cost of any request at all)."""

import os
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg

from bench.common import BIN, ROOT, SECRET_KEY, Figure, Gunicorn, flask_cli, fresh_postgres_database

ROWS = int(os.environ.get("BENCH_STAFF_ROWS", "1000000"))
# Overridable so that two people can run it at once on a shared machine.
PORT = int(os.environ.get("BENCH_STAFF_PORT", "5400"))  # PostgreSQL's run; SQLite's is PORT + 10
DATABASE = os.environ.get("BENCH_STAFF_DATABASE", "roster_bench_staff")
SAMPLES = 30
PASSWORD = "bench-password-for-staff"

# Subscribers created one a second backwards from now; a third pending, 500 article sources.
SUBSCRIBERS_SQL = """INSERT INTO subscribers (email, full_name, created_at, link_key)
    SELECT 'reader' || n || '@example.com', 'Reader ' || n, {ago}, {key} FROM ({series}) AS numbers"""
SUBSCRIPTIONS_SQL = """INSERT INTO subscriptions (subscriber_id, list_id, status, created_at, status_changed_at,
        requested_at, confirmed_at, source_url, link_key)
    SELECT id, {list_id}, CASE WHEN id % 3 = 0 THEN 'pending' ELSE 'confirmed' END, created_at, created_at,
           created_at, CASE WHEN id % 3 = 0 THEN NULL ELSE created_at END,
           'https://news.example/world/article-' || (id % 500), {key}
    FROM subscribers"""
CONSENT_SQL = """INSERT INTO consent_events (subscriber_id, list_id, action, occurred_at, form, wording_version,
        ip, user_agent, source_url)
    SELECT subscriber_id, list_id, 'subscribe_requested', created_at, 'embed', 'subscribe-v1', '192.0.2.1',
           'bench', source_url FROM subscriptions"""


# The filled tables' indexes that no constraint owns, with the statements that make them.
_FILLED = "('subscribers', 'subscriptions', 'consent_events')"
INDEXES_SQL = {
    "postgresql": f"""SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN {_FILLED}
        AND indexname NOT IN (SELECT conname FROM pg_constraint)""",
    "sqlite": f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN {_FILLED}",
}


def fill(database_url: str) -> None:
    env = {"APP_ENV": "development", "DATABASE_URL": database_url}
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "demo", "seed")
    if database_url.startswith("postgresql"):
        statements = {"series": f"SELECT generate_series(1, {ROWS}) AS n",
                      "ago": "now() - make_interval(secs => n)", "key": "substr(md5(gen_random_uuid()::text), 1, 16)"}
        connection = psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True)
        connection.execute("SET maintenance_work_mem = '256MB'")  # index builds sort in memory
    else:
        statements = {"series": f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {ROWS}) "
                                "SELECT n FROM g",
                      "ago": "strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || n || ' seconds') || '.000000'",
                      "key": "lower(hex(randomblob(8)))"}
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    list_id = connection.execute("SELECT id FROM mailing_lists WHERE is_default").fetchone()[0]
    # Each index built once over all the rows, as CREATE INDEX does, rather than a row at
    # a time: the same database, in half the time.
    indexes = connection.execute(INDEXES_SQL[database_url.split(":", 1)[0].split("+")[0]]).fetchall()
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    for sql in (SUBSCRIBERS_SQL, SUBSCRIPTIONS_SQL, CONSENT_SQL):
        connection.execute(sql.format(list_id=list_id, **statements))
    for _, definition in indexes:
        connection.execute(definition)
    connection.execute("ANALYZE")
    connection.close()
    subprocess.run([str(BIN / "flask"), "--app", "app", "admin", "create", "bench@example.com", "--role", "owner",
                    "--password-stdin"], input=PASSWORD, text=True, cwd=ROOT, check=True,
                   env={**os.environ, **env}, stdout=subprocess.DEVNULL)


class StaffClient:
    """Signs in like a browser and keeps the session cookie (sent by hand: it is Secure)."""

    def __init__(self, url: str):
        self.url, self.cookie = url, ""
        page = self.get("/admin/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, "email": "bench@example.com", "password": PASSWORD})
        request = urllib.request.Request(f"{url}/admin/login", data=body.encode(), headers={"Cookie": self.cookie})
        opener = urllib.request.build_opener(NoRedirect)
        with opener.open(request) as response:
            self._keep_cookie(response)
        assert "Sign out" in self.get("/admin/"), "sign-in failed"

    def _keep_cookie(self, response) -> None:
        if cookie := response.headers.get("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]

    def get(self, path: str) -> str:
        request = urllib.request.Request(f"{self.url}{path}", headers={"Cookie": self.cookie})
        with urllib.request.urlopen(request, timeout=30) as response:
            self._keep_cookie(response)
            return response.read().decode()

    def timings_ms(self, path: str) -> list[float]:
        for _ in range(3):
            self.get(path)
        samples = []
        for _ in range(SAMPLES):
            started = time.perf_counter()
            self.get(path)
            samples.append((time.perf_counter() - started) * 1000)
        return samples


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

    def http_error_303(self, request, response, code, message, headers):
        return response


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def deep_cursor(database_url: str) -> str:
    from services.core.pagination import encode_cursor

    sql = f"SELECT created_at, id FROM subscribers ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET {ROWS * 9 // 10}"
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url.replace("+psycopg", "")) as connection:
            created_at, row_id = connection.execute(sql).fetchone()
    else:
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            text, row_id = connection.execute(sql).fetchone()
            created_at = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return encode_cursor([created_at, row_id])


def timed_fill(database_url: str) -> float:
    started = time.monotonic()
    fill(database_url)
    return time.monotonic() - started


def measure(database: str, database_url: str, filled_in: float, port: int) -> list[Figure]:
    env = {"APP_ENV": "production", "SECRET_KEY": SECRET_KEY, "DATABASE_URL": database_url,
           "RATELIMIT_ENABLED": "false", "MAIL_BACKEND": "console"}
    # What a dashboard cache miss costs (cron's refresh, or the first request after expiry).
    started = time.monotonic()
    flask_cli(env, "maintenance", "refresh-dashboard")
    recounted_in = time.monotonic() - started
    with Gunicorn("app:create_app()", 2, port, env) as server:
        server.wait_until_up()
        client = StaffClient(server.url)
        baseline = client.timings_ms("/healthz")
        pages = {
            "dashboard": "/admin/",
            "subscriber list, first page": "/admin/subscribers",
            "subscriber list, page at 90% depth": "/admin/subscribers?" + urllib.parse.urlencode(
                {"after": deep_cursor(database_url)}),
            "search by email prefix": "/admin/subscribers?q=reader123456",
            "search by name": "/admin/subscribers?q=Reader+654321",
            "search by a name part in 111,111 names": "/admin/subscribers?q=Reader+1",
            "filter: pending, one source": "/admin/subscribers?status=pending&source="
                                           "https%3A%2F%2Fnews.example%2Fworld%2Farticle-42",
        }
        figures = []
        for label, path in pages.items():
            samples = client.timings_ms(path)
            figures.append(Figure(
                name=f"staff: {label}, {ROWS:,} subscribers, {database}",
                ours=f"p50 {statistics.median(samples):.0f} ms, p95 {p95(samples):.0f} ms",
                baseline=f"GET /healthz p95 {p95(baseline):.1f} ms",
                ratio=p95(samples) / p95(baseline), target="p95 < 300 ms", met=p95(samples) < 300,
                note=f"database filled in {filled_in:.0f} s (both databases at once); figures recounted "
                     f"(`flask maintenance refresh-dashboard`, a cache miss) in {recounted_in:.1f} s"
                if label == "dashboard" else "",
            ))
        return figures


def run() -> list[Figure]:
    """Both databases are filled at once (the work is in the database engines), then measured one at a time."""
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"postgresql": fresh_postgres_database(DATABASE), "sqlite": f"sqlite:///{tmp}/staff.sqlite3"}
        with ThreadPoolExecutor(max_workers=2) as pool:
            filled_in = dict(zip(urls, pool.map(timed_fill, urls.values()), strict=True))
        return [figure for offset, (database, url) in enumerate(urls.items())
                for figure in measure(database, url, filled_in[database], PORT + 10 * offset)]


if __name__ == "__main__":
    for figure in run():
        print(figure)
