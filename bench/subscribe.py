"""Subscribe throughput: Roster's hosted form (POST /subscribe) and article-page form
(POST /embed/subscribe) under gunicorn, in the same run against two baselines: a bare
Flask app that commits two rows through the raw driver (the issue's), and the same
sign-up written by hand in a bare Flask app (`handwritten_app.py`)."""

import os
import re
import statistics
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from bench.common import ROOT, SECRET_KEY, Figure, Gunicorn, LoadResult, flask_cli, fresh_postgres_database, wrk

HERE = Path(__file__).resolve().parent
CONNECTIONS = 16
# The servers under comparison run side by side and take load in turns, ROUNDS times
# ROUND_SECONDS each (the second round in reverse order), so that a slow spell on a
# shared machine falls on all of them rather than on whichever happened to run then.
ROUNDS = 2
ROUND_SECONDS = max(1, int(os.environ.get("BENCH_SECONDS", "4")) // ROUNDS)
# Each server first takes load unmeasured: workers import lazily, compile templates and
# prepare statements on their first requests, which is not what a running service does.
WARM_UP_SECONDS = 1


ARTICLE_SITE = "http://articles.example"
TARGET = "≥ 0.5×, p99 < 100 ms, no errors"
BARE_TARGET = "≥ 0.5× (the issue's target; see below)"


def roster_env(database_url: str) -> dict:
    return {"APP_ENV": "production", "SECRET_KEY": SECRET_KEY, "DATABASE_URL": database_url,
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


def load_figures(label: str, database: str, workers: int, ours, bare, by_hand, rss: float) -> list[Figure]:
    """One endpoint on one set-up: against the bare insert, and against the same sign-up by hand."""
    setup = f"gunicorn {workers} workers, {database}, {CONNECTIONS} connections"
    measured = (f"{ours.requests_per_second:.0f} req/s, p50 {ours.p50_ms:.1f} ms, p99 {ours.p99_ms:.1f} ms, "
                f"{ours.errors} errors, worker peak RSS {rss:.0f} MB")
    healthy = ours.p99_ms < 100 and ours.errors == 0

    def against(base, name: str, target: str) -> Figure:
        ratio = ours.requests_per_second / base.requests_per_second
        return Figure(name=name, ours=measured, ratio=ratio, target=target, met=ratio >= 0.5 and healthy,
                      baseline=(f"{base.requests_per_second:.0f} req/s, p50 {base.p50_ms:.1f} ms, "
                                f"p99 {base.p99_ms:.1f} ms, {base.errors} errors"))

    return [against(bare, f"{label}, {setup}", BARE_TARGET),
            against(by_hand, f"{label} against the same sign-up by hand, {setup}", TARGET)]


def measure_in_turns(loads: list[tuple[str, dict]]) -> list[LoadResult]:
    """Each (server URL, load) warmed up, then measured in turns with the others."""
    for url, load in loads:
        wrk(url + "/subscribe", HERE / "subscribe.lua", load, WARM_UP_SECONDS, CONNECTIONS)
    results: list[list[LoadResult]] = [[] for _ in loads]
    for round_number in range(ROUNDS):
        order = range(len(loads)) if round_number % 2 == 0 else reversed(range(len(loads)))
        for index in order:
            url, load = loads[index]
            results[index].append(wrk(url + "/subscribe", HERE / "subscribe.lua", load, ROUND_SECONDS, CONNECTIONS))
    return [combined(rounds) for rounds in results]


def combined(results: list[LoadResult]) -> LoadResult:
    """Rounds of one load as one: the mean throughput (rounds are equally long), the
    median of the rounds' p50s, and the worst round's p99."""
    return LoadResult(
        requests_per_second=statistics.fmean(result.requests_per_second for result in results),
        p50_ms=statistics.median(result.p50_ms for result in results),
        p99_ms=max(result.p99_ms for result in results),
        requests=sum(result.requests for result in results),
        errors=sum(result.errors for result in results))


ENDPOINTS = (("POST /subscribe", hosted_form_load), ("POST /embed/subscribe", embed_form_load))


def demo_database(env: dict) -> None:
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "demo", "seed")


def run_config(database: str, workers: int, port: int) -> list[Figure]:
    """The baselines and both of our sign-up endpoints, in turns, on one database and worker count."""
    with tempfile.TemporaryDirectory() as tmp:
        if database == "postgresql":
            roster_db = fresh_postgres_database("roster_bench")
            by_hand_db = fresh_postgres_database("roster_bench_by_hand")
            bare_db = fresh_postgres_database("roster_bench_baseline").replace("+psycopg", "")
        else:
            roster_db, by_hand_db = f"sqlite:///{tmp}/roster.sqlite3", f"sqlite:///{tmp}/by_hand.sqlite3"
            bare_db = f"{tmp}/baseline.sqlite3"

        with ThreadPoolExecutor(2) as pool:  # the two databases are set up side by side
            list(pool.map(demo_database, (roster_env(by_hand_db), roster_env(roster_db))))
        figures = []
        with ExitStack() as servers:
            bare_app, by_hand_app, roster = (servers.enter_context(server) for server in [  # all start at once
                Gunicorn("bench.baseline_app:app", workers, port, {"BASELINE_DATABASE": bare_db}),
                Gunicorn("bench.handwritten_app:create_app()", workers, port + 1, roster_env(by_hand_db)),
                Gunicorn("app:create_app()", workers, port + 2, roster_env(roster_db))])
            for server in (bare_app, by_hand_app, roster):
                server.wait_until_up()
            bare = None
            for label, load in ENDPOINTS:
                turns = [(by_hand_app.url, load(by_hand_app.url)), (roster.url, load(roster.url))]
                if bare is None:  # the bare insert has one endpoint: measured in turns with the first
                    bare, by_hand, ours = measure_in_turns([(bare_app.url, {}), *turns])
                else:
                    by_hand, ours = measure_in_turns(turns)
                figures += load_figures(label, database, workers, ours, bare, by_hand, roster.worker_peak_rss_mb())
    return figures


def run() -> list[Figure]:
    os.chdir(ROOT)
    figures = []
    port = 5300
    for database in ("sqlite", "postgresql"):
        for workers in (2, 4):
            figures += run_config(database, workers, port)
            port += 3
    return figures


if __name__ == "__main__":
    for figure in run():
        print(figure)
