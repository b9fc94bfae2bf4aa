"""Two web processes share one rate limit through Redis (and don't through memory)."""

import os
import uuid

import pytest
import redis

from tests.servers import ServerProcess

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
        env = {"APP_ENV": "development", "OUTBOX_IN_PROCESS": "false", "DATABASE_URL": database_url,
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
