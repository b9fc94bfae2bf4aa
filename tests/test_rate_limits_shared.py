"""Two web processes share one rate limit through Redis (and don't through memory)."""

import os
import secrets
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis

from app import create_app
from tests.servers import ROOT, ServerProcess

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_available() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def two_servers(database_url, _schema):
    servers = []

    def start(storage_uri: str) -> list[ServerProcess]:
        env = {"APP_ENV": "development", "DATABASE_URL": database_url,
               "RATELIMIT_STORAGE_URI": storage_uri, "PUBLIC_POST_RATE_LIMIT": "3 per minute",
               "RATELIMIT_KEY_PREFIX": f"roster-test-{uuid.uuid4().hex}"}
        servers.extend(ServerProcess(env) for _ in range(2))
        return servers

    yield start
    for server in servers:
        server.stop()


def hits_alternating(servers, count: int) -> list[int]:
    # A mailed-link POST needs no CSRF token and is rate limited like every public POST.
    return [servers[n % 2].post("/confirm/not-a-token") for n in range(count)]


@pytest.mark.skipif(not redis_available() and not os.environ.get("CI"),
                    reason="needs the Redis server on 127.0.0.1:6379 (CI always has it)")
def test_redis_storage_shares_one_limit_between_processes(two_servers):
    servers = two_servers(REDIS_URL)
    assert hits_alternating(servers, 4) == [400, 400, 400, 429]


def test_memory_storage_limits_each_process_alone(two_servers):
    servers = two_servers("memory://")
    assert hits_alternating(servers, 4) == [400, 400, 400, 400]
    assert hits_alternating(servers, 4)[-2:] == [429, 429]


GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def gunicorn_env(database_url: str, storage_uri: str) -> dict[str, str]:
    return {"APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": storage_uri, "RATELIMIT_KEY_PREFIX": f"roster-test-{uuid.uuid4().hex}"}


def test_gunicorn_refuses_several_workers_counting_limits_in_memory(database_url, _schema):
    result = subprocess.run([GUNICORN, "--workers", "2", "--bind", "127.0.0.1:0", "app:create_app()"],
                            cwd=ROOT, env={**os.environ, **gunicorn_env(database_url, "memory://")},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "refusing to start 2 gunicorn workers with rate limits kept in memory" in result.stderr


@pytest.mark.parametrize(("workers", "storage_uri"), [("1", "memory://"), ("2", REDIS_URL)])
def test_gunicorn_starts_when_limits_are_counted_in_one_place(database_url, _schema, workers, storage_uri):
    if storage_uri == REDIS_URL and not redis_available() and not os.environ.get("CI"):
        pytest.skip("needs the Redis server on 127.0.0.1:6379 (CI always has it)")
    server = ServerProcess(gunicorn_env(database_url, storage_uri),
                           [GUNICORN, "--workers", workers, "--bind", "127.0.0.1:{port}", "app:create_app()"])
    try:
        assert urllib.request.urlopen(f"{server.url}/healthz", timeout=5).status == 200
    finally:
        server.stop()


def test_production_warns_at_start_when_limits_are_counted_in_memory(tmp_path, caplog):
    settings = {"APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.sqlite3"}
    create_app({**settings, "RATELIMIT_STORAGE_URI": "memory://"})
    assert "counted in this process's memory" in caplog.text
    caplog.clear()
    create_app({**settings, "RATELIMIT_STORAGE_URI": REDIS_URL})
    assert "memory" not in caplog.text
