"""gunicorn's settings, read from the working directory whenever gunicorn starts here.

Rate limits counted in memory are counted by each process alone: with several workers a
client gets the limit once per worker. Such a start is refused; run one worker with
threads, or share the counts in Redis (RATELIMIT_STORAGE_URI=redis://…).
"""

from config import config_for


def on_starting(server) -> None:
    settings = config_for()
    if (settings.RATELIMIT_ENABLED and settings.RATELIMIT_STORAGE_URI.startswith("memory://")
            and server.cfg.workers > 1):
        raise SystemExit(
            f"Roster: refusing to start {server.cfg.workers} gunicorn workers with rate limits kept in "
            "memory (RATELIMIT_STORAGE_URI=memory://): each worker would count alone, multiplying every "
            "limit. Run one worker with threads (--workers 1 --threads 8) or set "
            "RATELIMIT_STORAGE_URI=redis://…")
