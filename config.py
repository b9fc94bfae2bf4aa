"""Configuration classes, read from the environment (names in DESIGN.md)."""

import os
import re
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent / "instance"

# Values that must never reach production as a key.
KNOWN_DEFAULT_SECRETS = frozenset({"", "dev", "change-me", "changeme", "development-only-secret", "secret",
                                   "testing-secret", "password"})
SECRET_MIN_LENGTH = 32
SECRET_MIN_DISTINCT_CHARACTERS = 10


def weak_secret_reason(value: str) -> str | None:
    """Why a key is unfit to sign sessions and links in production, or None if it is fit.
    A placeholder padded to length (`changemechangeme…`, one character repeated) is as
    guessable as the placeholder."""
    if not value.strip():
        return "is not set"
    if value.strip().lower() in KNOWN_DEFAULT_SECRETS:
        return "is a published default"
    if len(value) < SECRET_MIN_LENGTH:
        return f"is shorter than {SECRET_MIN_LENGTH} characters"
    if len(set(value)) < SECRET_MIN_DISTINCT_CHARACTERS:
        return f"uses fewer than {SECRET_MIN_DISTINCT_CHARACTERS} different characters"
    if re.fullmatch(r"(.+?)\1+", value):
        return "is a shorter value repeated"
    return None


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str) -> list[str]:
    return [item.strip().rstrip("/") for item in os.environ.get(name, "").split(",") if item.strip()]


class Config:
    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", "development-only-secret")
    # Older keys still accepted for signatures and sessions, so a key can be rotated.
    SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
    # Keys the hashes of erased addresses; must stay the same for the life of the data.
    # None: SECRET_KEY keys them.
    TOMBSTONE_KEY = os.environ.get("TOMBSTONE_KEY") or None
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'roster.sqlite3'}"
    )
    # How long a SQLite writer waits for another's lock before the request fails with 503.
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "10000"))
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # The publication readers see: defaults for the console's publication settings.
    SITE_NAME = os.environ.get("SITE_NAME", "")
    SITE_URL = os.environ.get("SITE_URL", "").strip()
    # The language of pages whose reader asks for none Roster ships (en, hi, fr, es, ar).
    DEFAULT_LANGUAGE = os.environ.get("DEFAULT_LANGUAGE", "en").strip().lower()
    # How long a process keeps the publication settings it read (a save shows elsewhere within it).
    PUBLICATION_CACHE_SECONDS = float(os.environ.get("PUBLICATION_CACHE_SECONDS", "10"))

    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))
    # The From address; its name is the publication's sender name unless the console sets one.
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "roster@localhost")
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR", str(INSTANCE_DIR / "mail"))
    # The envelope sender (Return-Path) where bounces go, e.g. bounces@bounce.example.com:
    # each mail is sent from bounces+<signed mail id>@bounce.example.com (VERP), so a bounce
    # names its mail and recipient. Unset: the envelope sender is the From address.
    BOUNCE_ADDRESS = os.environ.get("BOUNCE_ADDRESS", "").strip()
    # Soft bounces of this many different mails within the window suppress the address.
    SOFT_BOUNCE_LIMIT = max(1, int(os.environ.get("SOFT_BOUNCE_LIMIT", "5")))
    SOFT_BOUNCE_WINDOW_DAYS = max(1, int(os.environ.get("SOFT_BOUNCE_WINDOW_DAYS", "30")))
    # Bounce and complaint webhooks (POST /hooks/bounces/<provider>): Mailgun's webhook
    # signing key; SendGrid's signed event webhook verification key (base64 public key).
    MAILGUN_WEBHOOK_SIGNING_KEY = os.environ.get("MAILGUN_WEBHOOK_SIGNING_KEY", "")
    SENDGRID_WEBHOOK_PUBLIC_KEY = os.environ.get("SENDGRID_WEBHOOK_PUBLIC_KEY", "")
    # A signed webhook older than this (seconds) is refused: a captured one cannot be replayed.
    BOUNCE_WEBHOOK_MAX_AGE_SECONDS = int(os.environ.get("BOUNCE_WEBHOOK_MAX_AGE_SECONDS", "600"))

    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8"))
    OUTBOX_BACKOFF_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_SECONDS", "30"))
    OUTBOX_LEASE_SECONDS = float(os.environ.get("OUTBOX_LEASE_SECONDS", "300"))
    OUTBOX_BATCH_SIZE = int(os.environ.get("OUTBOX_BATCH_SIZE", "50"))

    # Newsletters: each worker sends a campaign over this many SMTP connections at once, at
    # most this many mails a second and an hour (0: no limit; the limits hold per worker).
    CAMPAIGN_SMTP_CONNECTIONS = max(1, int(os.environ.get("CAMPAIGN_SMTP_CONNECTIONS", "4")))
    CAMPAIGN_RATE_PER_SECOND = float(os.environ.get("CAMPAIGN_RATE_PER_SECOND", "0"))
    CAMPAIGN_RATE_PER_HOUR = float(os.environ.get("CAMPAIGN_RATE_PER_HOUR", "0"))
    CAMPAIGN_BATCH_SIZE = int(os.environ.get("CAMPAIGN_BATCH_SIZE", "200"))
    CAMPAIGN_LEASE_SECONDS = float(os.environ.get("CAMPAIGN_LEASE_SECONDS", "300"))
    CAMPAIGN_MAX_ATTEMPTS = int(os.environ.get("CAMPAIGN_MAX_ATTEMPTS", "3"))
    CAMPAIGN_RETRY_SECONDS = float(os.environ.get("CAMPAIGN_RETRY_SECONDS", "60"))

    # Background jobs (`flask worker`): a worker holds a job this long past its last
    # checkpoint; a job that fails is tried again after a backoff that doubles.
    JOB_LEASE_SECONDS = float(os.environ.get("JOB_LEASE_SECONDS", "60"))
    JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", "5"))
    JOB_BACKOFF_SECONDS = float(os.environ.get("JOB_BACKOFF_SECONDS", "30"))
    # How often an idle worker looks for mail, jobs and scheduled tasks.
    WORKER_POLL_SECONDS = float(os.environ.get("WORKER_POLL_SECONDS", "1"))

    # The retention purge (run daily by the worker at this hour, UTC, or by `flask maintenance
    # purge`): never-confirmed requests and delivered mail are not kept forever.
    RETENTION_PURGE_HOUR = int(os.environ.get("RETENTION_PURGE_HOUR", "3")) % 24
    RETENTION_PENDING_DAYS = int(os.environ.get("RETENTION_PENDING_DAYS", "30"))
    RETENTION_SENT_MAIL_DAYS = max(2, int(os.environ.get("RETENTION_SENT_MAIL_DAYS", "30")))
    RETENTION_FINISHED_JOBS_DAYS = max(1, int(os.environ.get("RETENTION_FINISHED_JOBS_DAYS", "30")))

    # Scheduled backups (the worker, daily at this hour UTC): the newest BACKUP_KEEP files are kept.
    BACKUP_DIR = os.environ.get("BACKUP_DIR", str(INSTANCE_DIR / "backups"))
    BACKUP_KEEP = max(1, int(os.environ.get("BACKUP_KEEP", "7")))
    BACKUP_HOUR = int(os.environ.get("BACKUP_HOUR", "2")) % 24

    # The dashboard's figures over every subscription are recomputed at most this often
    # (and by the worker's schedule ahead of that); outbox and cohorts are live.
    DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", "60"))

    CONFIRM_TOKEN_MAX_AGE = 7 * 24 * 3600
    # A reader's link to download or erase their data: short-lived, it opens everything.
    PRIVACY_TOKEN_MAX_AGE = 24 * 3600
    EMAIL_CHECK_DELIVERABILITY = env_bool("EMAIL_CHECK_DELIVERABILITY", False)
    # Opt-in mails one address can trigger: one of each purpose per window, a few of all per day.
    OPT_IN_MAIL_MIN_INTERVAL_SECONDS = 600
    OPT_IN_MAIL_DAILY_LIMIT = 5

    EMBED_ALLOWED_ORIGINS = env_list("EMBED_ALLOWED_ORIGINS")
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "roster")
    STAFF_API_RATE_LIMIT = os.environ.get("STAFF_API_RATE_LIMIT", "300 per minute")
    PUBLIC_POST_RATE_LIMIT = os.environ.get("PUBLIC_POST_RATE_LIMIT", "20 per minute; 200 per hour")
    # Sign-up posts naming one address, from any IP (the embed and the public API).
    ADDRESS_POST_RATE_LIMIT = os.environ.get("ADDRESS_POST_RATE_LIMIT", "5 per minute; 20 per day")

    # Reverse proxies in front of Roster whose X-Forwarded-For/-Proto/-Host to trust (0: none).
    TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Largest import file (a zip: also its unpacked size); an upload route needs its own
    # request limit this large.
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(100 * 1024 * 1024)))
    # Uploaded files wait here for their import job (and are removed after it).
    IMPORT_UPLOAD_DIR = os.environ.get("IMPORT_UPLOAD_DIR", str(INSTANCE_DIR / "imports"))
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Staff passwords: Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_COST_KIB = 19456
    ARGON2_PARALLELISM = 1
    STAFF_MAX_FAILED_LOGINS = 5
    STAFF_LOCKOUT_SECONDS = 15 * 60
    STAFF_LOGIN_RATE_LIMIT = os.environ.get("STAFF_LOGIN_RATE_LIMIT", "10 per minute; 50 per hour")
    # A console session ends this long after signing in, or after this long unused.
    STAFF_SESSION_MAX_AGE_SECONDS = int(os.environ.get("STAFF_SESSION_MAX_AGE_SECONDS", str(12 * 3600)))
    STAFF_SESSION_IDLE_SECONDS = int(os.environ.get("STAFF_SESSION_IDLE_SECONDS", str(2 * 3600)))


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    OUTBOX_BACKOFF_SECONDS = 2.0
    JOB_BACKOFF_SECONDS = 2.0
    # The demo article site that `make run` serves beside Roster.
    EMBED_ALLOWED_ORIGINS = env_list("EMBED_ALLOWED_ORIGINS") or ["http://localhost:5001"]


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"  # noqa: S105  (tests only; production refuses defaults)
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    MAIL_BACKEND = "smtp"
    RATELIMIT_ENABLED = False
    OUTBOX_BACKOFF_SECONDS = 0.0
    JOB_BACKOFF_SECONDS = 0.0
    CAMPAIGN_RETRY_SECONDS = 0.0
    BASE_URL = "http://roster.test"
    SERVER_NAME = None
    ARGON2_MEMORY_COST_KIB = 1024  # cheap hashes keep the suite fast


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(env_name: str | None = None) -> type[Config]:
    name = env_name or os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
