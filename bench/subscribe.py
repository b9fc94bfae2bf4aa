"""Subscribe throughput: Roster's hosted form (POST /subscribe) and article-page form
(POST /embed/subscribe) under gunicorn, against a bare Flask app that commits the same
two rows through the raw driver, in the same run."""

import os
import re
import tempfile
import urllib.request
from pathlib import Path

from bench.common import ROOT, Figure, Gunicorn, flask_cli, fresh_postgres_database, wrk

HERE = Path(__file__).resolve().parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = 16
# Each server first takes load unmeasured: workers import lazily, compile templates and
# prepare statements on their first requests, which is not what a running service does.
WARM_UP_SECONDS = 2


ARTICLE_SITE = "http://articles.example"
TARGET = "≥ 0.5×, p99 < 100 ms, no errors"


def roster_env(database_url: str) -> dict:
    return {"APP_ENV": "production", "SECRET_KEY": "b" * 48, "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": "false", "MAIL_BACKEND": "console", "BASE_URL": "http://127.0.0.1",
            "EMBED_ALLOWED_ORIGINS": ARTICLE_SITE}


def csrf_form(url: str) -> tuple[str, str]:
    """A CSRF token and the session cookie it belongs to, as a browser would hold them."""
    with urllib.request.urlopen(f"{url}/subscribe") as response:
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        page = response.read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return token, cookie


def hosted_form_load(url: str) -> dict:
    """POST /subscribe as the hosted page's form sends it: CSRF token and session cookie."""
    token, cookie = csrf_form(url)
    return {"BENCH_PATH": "/subscribe", "BENCH_COOKIE": cookie,
            "BENCH_BODY": f"csrf_token={token}&email=%s&full_name=Bench+Reader"}


def embed_form_load(url: str) -> dict:
    """POST /embed/subscribe as a form on an allowed article site sends it: no cookie."""
    return {"BENCH_PATH": "/embed/subscribe", "BENCH_ORIGIN": ARTICLE_SITE,
            "BENCH_BODY": f"email=%s&full_name=Bench+Reader&source={ARTICLE_SITE}/story"}


def figure(label: str, database: str, workers: int, ours, base, rss: float) -> Figure:
    ratio = ours.requests_per_second / base.requests_per_second
    return Figure(
        name=f"{label}, gunicorn {workers} workers, {database}, {CONNECTIONS} connections",
        ours=(f"{ours.requests_per_second:.0f} req/s, p50 {ours.p50_ms:.1f} ms, p99 {ours.p99_ms:.1f} ms, "
              f"{ours.errors} errors, worker peak RSS {rss:.0f} MB"),
        baseline=f"{base.requests_per_second:.0f} req/s, p50 {base.p50_ms:.1f} ms, p99 {base.p99_ms:.1f} ms",
        ratio=ratio, target=TARGET, met=ratio >= 0.5 and ours.p99_ms < 100 and ours.errors == 0,
    )


def run_config(database: str, workers: int, port: int) -> list[Figure]:
    """The baseline, then both of our sign-up endpoints, on one database and worker count."""
    with tempfile.TemporaryDirectory() as tmp:
        if database == "postgresql":
            roster_db = fresh_postgres_database("roster_bench")
            baseline_db = fresh_postgres_database("roster_bench_baseline").replace("+psycopg", "")
        else:
            roster_db = f"sqlite:///{tmp}/roster.sqlite3"
            baseline_db = f"{tmp}/baseline.sqlite3"

        baseline = Gunicorn("bench.baseline_app:app", workers, port, {"BASELINE_DATABASE": baseline_db})
        try:
            wrk(baseline.url + "/subscribe", HERE / "subscribe.lua", {}, WARM_UP_SECONDS, CONNECTIONS)
            base = wrk(baseline.url + "/subscribe", HERE / "subscribe.lua", {}, SECONDS, CONNECTIONS)
        finally:
            baseline.stop()

        env = roster_env(roster_db)
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "demo", "seed")
        roster = Gunicorn("app:create_app()", workers, port + 1, env)
        try:
            figures = []
            for label, load in (("POST /subscribe", hosted_form_load), ("POST /embed/subscribe", embed_form_load)):
                wrk(roster.url + "/subscribe", HERE / "subscribe.lua", load(roster.url), WARM_UP_SECONDS, CONNECTIONS)
                ours = wrk(roster.url + "/subscribe", HERE / "subscribe.lua", load(roster.url), SECONDS, CONNECTIONS)
                figures.append(figure(label, database, workers, ours, base, roster.worker_peak_rss_mb()))
        finally:
            roster.stop()
    return figures


def run() -> list[Figure]:
    os.chdir(ROOT)
    figures = []
    port = 5300
    for database in ("sqlite", "postgresql"):
        for workers in (2, 4):
            figures += run_config(database, workers, port)
            port += 2
    return figures


if __name__ == "__main__":
    for figure in run():
        print(figure)
