"""The second subscribe baseline: Roster's sign-up written by hand in a bare Flask app.

It does the work a sign-up must do, as Roster does it and into Roster's own tables
(tests/test_bench_baselines.py compares what the two write):
- the request's own check: the CSRF token of the hosted form, or the article site's origin
  for the embed; the honeypot;
- the address and the name checked by Roster's own rule functions (pure functions, so the
  rules cannot differ), and the article URL split from its campaign parameters likewise;
- through the raw driver, in one transaction: the default list, the subscriber and
  subscription upserts, the consent event, the per-address mail throttle, and the
  confirmation mail with its two signed links, rendered from Roster's templates and
  catalogues in the reader's language (stored with the subscription) and queued.
It is written as a careful hand would write it for speed: statements prepared once per
connection, templates compiled once, and SQLite's write lock taken with short retries
rather than SQLite's busy handler (as Roster does). It leaves out Roster's layers: WTForms,
Flask-WTF, SQLAlchemy, Flask-Limiter (off in the benchmark), security headers and the
pages — the embed answers with a bare page where Roster renders its thank-you page.

Run it with Roster's environment: DATABASE_URL, SECRET_KEY, BASE_URL, EMBED_ALLOWED_ORIGINS.
"""

import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from babel.support import Translations
from flask import Flask, abort, redirect, request, session
from flask_babel import Babel
from itsdangerous import BadData, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import escape

from config import Config
from services.core.errors import InvalidInput
from services.core.languages import LANGUAGES, direction, shipped
from services.core.origins import (
    is_allowed,
    normalise_origins,
    request_origin,
    safe_next,
    source_details,
    split_source,
)
from services.core.publication import FALLBACK_NAME, Publication
from services.core.validation import clean_full_name, normalise_email

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
DAILY_LIMIT = Config.OPT_IN_MAIL_DAILY_LIMIT
MIN_INTERVAL = timedelta(seconds=Config.OPT_IN_MAIL_MIN_INTERVAL_SECONDS)
WORDING = "subscribe-v1"
THANKS = "We have sent you an email: open it and follow the link to finish."
LOCK_WAIT_S = 10

STATEMENTS = {
    "subscriber": (
        "INSERT INTO subscribers (email, full_name, created_at, link_key) VALUES ({p}, {p}, {p}, {p}) "
        "ON CONFLICT (lower(email)) DO UPDATE SET full_name = CASE WHEN subscribers.full_name = '' "
        "THEN excluded.full_name ELSE subscribers.full_name END "
        "RETURNING id, email, full_name, suppressed_at, link_key"),
    "subscription": (
        "INSERT INTO subscriptions (subscriber_id, list_id, status, created_at, status_changed_at, requested_at, "
        "source_url, referrer, utm, link_key, language) "
        "SELECT {p}, id, 'pending', {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p} "
        "FROM mailing_lists WHERE ({p} = '' OR (slug = {p} AND is_public)) "  # '': the default list, in the same trip
        "ORDER BY is_default DESC, id LIMIT 1 "
        "ON CONFLICT (subscriber_id, list_id) DO UPDATE SET requested_at = CASE WHEN subscriptions.status = "
        "'confirmed' THEN subscriptions.requested_at ELSE excluded.requested_at END, "
        "language = COALESCE(excluded.language, subscriptions.language) "
        "RETURNING id, status, list_id, link_key, "
        "(SELECT name FROM mailing_lists WHERE mailing_lists.id = subscriptions.list_id), "
        "COALESCE(subscriptions.language, "
        "(SELECT language FROM mailing_lists WHERE mailing_lists.id = subscriptions.list_id)), "
        # the throttle's reading, taken under the subscriber's row lock as Roster takes it
        "(SELECT count(*) FROM outbox_messages WHERE lower(recipient) = lower({p}) "
        "AND category IN ('opt_in', 'course_opt_in', 'privacy_link') AND created_at > {p}), "
        "(SELECT max(created_at) FROM outbox_messages WHERE lower(recipient) = lower({p}) AND category = 'opt_in' "
        "AND created_at > {p})"),
    "consent": (
        "INSERT INTO consent_events (subscriber_id, list_id, action, occurred_at, form, wording_version, ip, "
        "user_agent, source_url) VALUES ({p}, {p}, 'subscribe_requested', {p}, {p}, {p}, {p}, {p}, {p})"),
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
                # No busy handler: begin() below retries on its own.
                self.local.connection = sqlite3.connect(self.url, timeout=0, isolation_level=None)
                for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
                    self.local.connection.execute(f"PRAGMA {pragma}")
        return self.local.connection

    def begin(self, connection) -> None:
        """PostgreSQL's driver begins by itself; SQLite takes the write lock, retrying every 0.5 ms."""
        if self.postgres:
            return
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(0.0005)

    def end(self, connection, *, commit: bool) -> None:
        if not self.postgres:
            if connection.in_transaction:
                connection.execute("COMMIT" if commit else "ROLLBACK")
        elif commit:
            connection.commit()
        else:
            connection.rollback()

    def time(self, moment: datetime):
        """As Roster stores times: PostgreSQL takes them as they are, SQLite as naive UTC text."""
        return moment if self.postgres else moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def create_app(config: dict | None = None) -> Flask:
    config = config or os.environ
    app = Flask(__name__)
    app.secret_key = config["SECRET_KEY"]
    Babel(app)  # Roster's rule functions word their refusals through it
    base_url = config["BASE_URL"].rstrip("/")
    # The publication as Roster shows it with no settings saved (Roster reads them once in a while).
    brand = Publication(name=config.get("SITE_NAME") or FALLBACK_NAME, site_url=config.get("SITE_URL", ""),
                        sender_name="", postal_address="", accent_colour="", has_logo=False, version=0)
    article_sites = normalise_origins(config.get("EMBED_ALLOWED_ORIGINS", "").split(","))
    database = Database(config["DATABASE_URL"])
    # One template environment per language, each with that language's catalogue.
    mail = {}
    for code in LANGUAGES:
        catalogue = Translations.load(str(TRANSLATIONS), [code])
        mail[code] = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                                 auto_reload=False, extensions=["jinja2.ext.i18n"])
        mail[code].install_gettext_translations(catalogue, newstyle=True)
        mail[code].globals.update(page_language=lambda code=code: code,
                                  text_direction=lambda code=code: direction(code), catalogue=catalogue)
    csrf = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    confirm_links = URLSafeTimedSerializer([app.secret_key], salt="roster.confirm-subscription")
    leave_links = URLSafeTimedSerializer([app.secret_key], salt="roster.unsubscribe")

    def queue_mail(db, now, subscriber, subscription) -> None:
        subscriber_id, email, name, suppressed_at, subscriber_key = subscriber
        subscription_id, status, list_id, subscription_key, list_name, language, sent_today, latest = subscription
        if isinstance(latest, str):
            latest = datetime.fromisoformat(latest).replace(tzinfo=UTC)
        if suppressed_at is not None or sent_today >= DAILY_LIMIT or (latest and latest > now - MIN_INTERVAL):
            return
        confirmed = status == "confirmed"
        template = "already_subscribed" if confirmed else "confirm_subscription"
        templates = mail[language]
        subject = templates.globals["catalogue"].gettext(
            "You're already subscribed to %(list)s" if confirmed else "Please confirm your subscription to %(list)s"
        ) % {"list": list_name}
        # Each link names its row by id and by the row's link key, as Roster's do.
        leave = leave_links.dumps({"i": subscriber_id, "k": subscriber_key, "l": list_id})
        confirm = confirm_links.dumps({"i": subscription_id, "k": subscription_key})
        leave_url = f"{base_url}/unsubscribe/{leave}"
        context = {"list_name": list_name, "preferences_url": leave_url, "recipient_name": name,
                   "confirm_url": f"{base_url}/confirm/{confirm}",
                   "unsubscribe_url": leave_url, "site_name": brand.name,
                   "publication": brand, "logo_url": None}
        headers = {"List-Unsubscribe": f"<{leave_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        at = database.time(now)
        db.execute(database.sql["mail"], (
            f"<{uuid.uuid4().hex}@{urlsplit(base_url).hostname}>", email, name, subject,
            templates.get_template(f"email/{template}.txt").render(context),
            templates.get_template(f"email/{template}.html").render(context), json.dumps(headers), at, at))

    def sign_up(form: str, source_url: str | None, utm: dict[str, str]) -> None:
        """Raises InvalidInput, as Roster's rules do, before anything is written."""
        email = normalise_email(request.form.get("email"))
        name = clean_full_name(request.form.get("full_name"))
        source_url = source_url or request.referrer
        # The page's language, as Roster chooses it: ?lang=, the cookie, then the browser's.
        language = (shipped(request.args.get("lang")) or shipped(request.cookies.get("lang"))
                    or request.accept_languages.best_match(LANGUAGES) or Config.DEFAULT_LANGUAGE)
        db, sql, now = database.connection(), database.sql, datetime.now(UTC)
        at = database.time(now)
        database.begin(db)
        try:
            subscriber = db.execute(sql["subscriber"], (email, name, at, secrets.token_urlsafe(12))).fetchone()
            since = database.time(now - timedelta(days=1))
            subscription = db.execute(sql["subscription"], (
                subscriber[0], at, at, at, source_url, request.referrer, json.dumps(utm) if utm else None,
                secrets.token_urlsafe(12), language, "", "", subscriber[1], since, subscriber[1], since)).fetchone()
            if subscription[1] != "confirmed":
                user_agent = (request.user_agent.string or "")[:500] or None
                db.execute(sql["consent"], (subscriber[0], subscription[2], at, form, WORDING, request.remote_addr,
                                            user_agent, (source_url or "")[:2000] or None))
            queue_mail(db, now, subscriber, subscription)
        except BaseException:
            database.end(db, commit=False)
            raise
        database.end(db, commit=True)

    @app.errorhandler(InvalidInput)
    def invalid(error: InvalidInput):
        return f"{error.field}: {error.message}", 400

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
        if not request.form.get("website"):  # the honeypot: a bot gets the same answer
            sign_up("hosted", request.form.get("source"), {})
        return redirect("/subscribe/check-your-inbox", 303)

    @app.post("/embed/subscribe")
    def embed_subscribe():
        if not is_allowed(request_origin(request.headers.get("Origin"), request.referrer), article_sites):
            abort(403)
        source, utm = split_source(request.form.get("source") or request.referrer)
        if not request.form.get("website"):
            sign_up("embed", source, {**utm, **source_details(source, request.form, request.form.get("source_title"))})
        if next_url := safe_next(request.form.get("next"), article_sites):
            return redirect(next_url, 303)
        back = f'<p><a href="{escape(source)}">Back to the article</a></p>' if source else ""
        return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Check your inbox</title>'
                f"<h1>Check your inbox</h1><p>{THANKS}</p>{back}</html>")

    @app.get("/healthz")
    def healthz():
        database.connection()
        return "ok"

    return app
