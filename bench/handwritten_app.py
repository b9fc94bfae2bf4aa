"""The second subscribe baseline: Roster's sign-up written by hand in a bare Flask app.

It does the work a sign-up must do, as Roster does it and into Roster's own tables
(a test keeps the two writing the same rows): the request's own check (the CSRF token
of the hosted form, the article site's origin for the embed), the address checked by
email-validator and the name by the same rules, the default list, the subscriber and
subscription upserts, the consent event, the per-address mail throttle, two signed
links, the confirmation mail rendered from Roster's templates and queued, one commit.
It leaves out what Roster adds around that work: WTForms, Flask-WTF, SQLAlchemy,
Flask-Limiter (off in the benchmark), security headers and the pages.

Run it with Roster's environment: DATABASE_URL, SECRET_KEY, BASE_URL, EMBED_ALLOWED_ORIGINS.
"""

import hmac
import json
import os
import re
import secrets
import sqlite3
import threading
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import Flask, abort, redirect, request, session
from itsdangerous import BadData, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FORBIDDEN_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffd]")
DAILY_LIMIT, MIN_INTERVAL = 5, timedelta(seconds=600)  # Roster's defaults
WORDING = "subscribe-v1"

STATEMENTS = {
    "list": "SELECT id, name FROM mailing_lists ORDER BY is_default DESC, id LIMIT 1",
    "subscriber": (
        "INSERT INTO subscribers (email, full_name, created_at) VALUES ({p}, {p}, {p}) "
        "ON CONFLICT (lower(email)) DO UPDATE SET full_name = CASE WHEN subscribers.full_name = '' "
        "THEN excluded.full_name ELSE subscribers.full_name END RETURNING id, email, full_name, suppressed_at"),
    "subscription": (
        "INSERT INTO subscriptions (subscriber_id, list_id, status, created_at, status_changed_at, requested_at, "
        "source_url, referrer, utm) VALUES ({p}, {p}, 'pending', {p}, {p}, {p}, {p}, {p}, NULL) "
        "ON CONFLICT (subscriber_id, list_id) DO UPDATE SET requested_at = CASE WHEN subscriptions.status = "
        "'confirmed' THEN subscriptions.requested_at ELSE excluded.requested_at END RETURNING id, status"),
    "consent": (
        "INSERT INTO consent_events (subscriber_id, list_id, action, occurred_at, form, wording_version, ip, "
        "user_agent, source_url) VALUES ({p}, {p}, 'subscribe_requested', {p}, {p}, {p}, {p}, {p}, {p})"),
    "throttle": ("SELECT count(*), max(created_at) FROM outbox_messages "
                 "WHERE recipient = {p} AND category = 'opt_in' AND created_at > {p}"),
    "mail": (
        "INSERT INTO outbox_messages (message_id, recipient, recipient_name, category, subject, text_body, "
        "html_body, headers, attachments, status, attempts, next_attempt_at, created_at) "
        "VALUES ({p}, {p}, {p}, 'opt_in', {p}, {p}, {p}, {p}, '[]', 'queued', 0, {p}, {p})"),
}


class Database:
    """One raw driver connection per thread, with the statements in its parameter style."""

    def __init__(self, url: str):
        self.postgres = url.startswith("postgresql")
        self.url = url.replace("+psycopg", "") if self.postgres else url.removeprefix("sqlite:///")
        self.local = threading.local()
        marker = "%s" if self.postgres else "?"
        self.sql = {name: text.format(p=marker) for name, text in STATEMENTS.items()}

    def connection(self):
        if not hasattr(self.local, "connection"):
            if self.postgres:
                import psycopg

                self.local.connection = psycopg.connect(self.url)
            else:
                self.local.connection = sqlite3.connect(self.url, timeout=10, isolation_level=None)
                self.local.connection.execute("PRAGMA journal_mode = WAL")
                self.local.connection.execute("PRAGMA synchronous = NORMAL")
        return self.local.connection

    def time(self, moment: datetime):
        """As Roster stores times: PostgreSQL takes them as they are, SQLite as naive UTC text."""
        return moment if self.postgres else moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def create_app(config: dict | None = None) -> Flask:
    config = config or os.environ
    app = Flask(__name__)
    app.secret_key = config["SECRET_KEY"]
    base_url = config["BASE_URL"].rstrip("/")
    site_name = config.get("SITE_NAME", "Roster")
    allowed = {origin.strip().rstrip("/") for origin in config.get("EMBED_ALLOWED_ORIGINS", "").split(",")}
    database = Database(config["DATABASE_URL"])
    mail = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    csrf = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    confirm_links = URLSafeTimedSerializer([app.secret_key], salt="roster.confirm-subscription")
    leave_links = URLSafeTimedSerializer([app.secret_key], salt="roster.unsubscribe")

    def sign_up(form: str, source_url: str | None, wording: str | None):
        raw_email = request.form.get("email", "").strip()
        try:
            if not raw_email or len(raw_email) > 254 or "\ufffd" in raw_email:
                raise EmailNotValidError("empty, too long or unreadable")
            email = validate_email(raw_email, check_deliverability=False).normalized
        except EmailNotValidError:
            return "Enter a valid email address.", 400
        name = unicodedata.normalize("NFC", request.form.get("full_name", "").strip())
        if len(name) > 200 or FORBIDDEN_IN_NAME.search(name):
            return "Full name contains characters that are not allowed.", 400
        db, sql, now = database.connection(), database.sql, datetime.now(UTC)
        at = database.time(now)
        if not database.postgres:
            db.execute("BEGIN IMMEDIATE")
        list_id, list_name = db.execute(sql["list"]).fetchone()
        subscriber_id, email, name, suppressed_at = db.execute(sql["subscriber"], (email, name, at)).fetchone()
        subscription_id, status = db.execute(
            sql["subscription"], (subscriber_id, list_id, at, at, at, source_url, request.referrer)).fetchone()
        if status != "confirmed":
            user_agent = (request.user_agent.string or "")[:500] or None
            db.execute(sql["consent"], (subscriber_id, list_id, at, form, wording, request.remote_addr,
                                        user_agent, (source_url or "")[:2000] or None))
        sent_today, latest = db.execute(sql["throttle"], (email, database.time(now - timedelta(days=1)))).fetchone()
        if isinstance(latest, str):
            latest = datetime.fromisoformat(latest).replace(tzinfo=UTC)
        if suppressed_at is None and sent_today < DAILY_LIMIT and (latest is None or latest <= now - MIN_INTERVAL):
            confirmed = status == "confirmed"
            template = "already_subscribed" if confirmed else "confirm_subscription"
            subject = (f"You're already subscribed to {list_name}" if confirmed
                       else f"Please confirm your subscription to {list_name}")
            leave_url = f"{base_url}/unsubscribe/{leave_links.dumps({'subscriber': subscriber_id, 'list': list_id})}"
            context = {"list_name": list_name, "preferences_url": leave_url, "recipient_name": name,
                       "confirm_url": f"{base_url}/confirm/{confirm_links.dumps({'subscription': subscription_id})}",
                       "unsubscribe_url": leave_url, "site_name": site_name}
            headers = {"List-Unsubscribe": f"<{leave_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
            db.execute(sql["mail"], (
                f"<{uuid.uuid4().hex}@{urlsplit(base_url).hostname}>", email, name, subject,
                mail.get_template(f"email/{template}.txt").render(context),
                mail.get_template(f"email/{template}.html").render(context), json.dumps(headers), at, at))
        db.execute("COMMIT") if not database.postgres else db.commit()
        return redirect("/subscribe/check-your-inbox", 303)

    @app.get("/subscribe")
    def subscribe_page():
        session.setdefault("csrf_token", secrets.token_hex(20))
        token = csrf.dumps(session["csrf_token"])
        return f'<form method="post"><input id="csrf_token" name="csrf_token" type="hidden" value="{token}"></form>'

    @app.post("/subscribe")
    def subscribe():
        try:
            sent = csrf.loads(request.form.get("csrf_token", ""))
        except BadData:
            abort(400)
        if not hmac.compare_digest(sent, session.get("csrf_token", "")):
            abort(400)
        return sign_up("hosted", request.form.get("source") or request.referrer, WORDING)

    @app.post("/embed/subscribe")
    def embed_subscribe():
        if request.headers.get("Origin", "").rstrip("/") not in allowed:
            abort(403)
        return sign_up("embed", request.form.get("source") or None, WORDING)

    @app.get("/healthz")
    def healthz():
        database.connection()
        return "ok"

    return app
