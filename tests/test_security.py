"""Headers, production start-up checks, body size cap and friendly limits."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from itsdangerous import BadSignature
from sqlalchemy import func, select

from app import create_app
from extensions import db
from models import Subscriber
from tests.support import csrf_token, outbox_rows

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "q8Vx2LrT0mZk7NwP4yHc9BdJ6sFg3AeU1oKi5"


def test_pages_carry_security_headers(client, newsletter):
    headers = client.get("/subscribe").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers  # only in production


def test_each_response_gets_a_fresh_nonce(client, newsletter):
    first = client.get("/subscribe").headers["Content-Security-Policy"]
    second = client.get("/subscribe").headers["Content-Security-Policy"]
    assert first != second


@pytest.mark.parametrize(("overrides", "names"), [
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"SECRET_KEY": "dev"}, "SECRET_KEY"),
    ({"SECRET_KEY": "development-only-secret"}, "SECRET_KEY"),
    ({"SECRET_KEY": "short-but-not-default"}, "SECRET_KEY"),
    ({"SECRET_KEY": "changeme" * 6}, "SECRET_KEY"),
    ({"SECRET_KEY": "changeme-2024!" * 3}, "SECRET_KEY is a shorter value repeated"),
    ({"SECRET_KEY": "x" * 48}, "SECRET_KEY uses fewer than 10 different characters"),
    ({"SECRET_KEY": "Secret" * 8}, "SECRET_KEY"),
    ({"SECRET_KEY": GOOD_SECRET, "SECRET_KEY_FALLBACKS": ["development-only-secret"]},
     r"SECRET_KEY_FALLBACKS \(key 1\) is a published default"),
    ({"SECRET_KEY": GOOD_SECRET, "SECRET_KEY_FALLBACKS": [GOOD_SECRET[::-1], "ab" * 20]},
     r"SECRET_KEY_FALLBACKS \(key 2\)"),
    ({"SECRET_KEY": GOOD_SECRET, "TOMBSTONE_KEY": "changeme"}, "TOMBSTONE_KEY"),
    ({"SECRET_KEY": GOOD_SECRET, "DEBUG": True}, "DEBUG"),
])
def test_production_refuses_to_start_with_unsafe_settings(overrides, names):
    with pytest.raises(RuntimeError, match=names):
        create_app({"APP_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://", **overrides})


def test_production_settings(tmp_path):
    app = create_app({"APP_ENV": "production", "SECRET_KEY": GOOD_SECRET, "SECRET_KEY_FALLBACKS": [GOOD_SECRET[::-1]],
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.sqlite3"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_production_process_without_secret_key_exits_naming_the_setting(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(APP_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path}/p.sqlite3")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "routes"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_oversized_body_is_refused_with_413(client, newsletter):
    response = client.post("/subscribe", data={"email": "x@example.com", "full_name": "n" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than this site accepts" in response.get_data(as_text=True)


def test_rate_limit_answers_a_friendly_429(app, client, newsletter):
    app.config.update(RATELIMIT_ENABLED=True, PUBLIC_POST_RATE_LIMIT="2 per minute")
    limited = create_app({**app.config, "APP_ENV": "testing"})
    test_client = limited.test_client()
    token = csrf_token(test_client)
    statuses = [test_client.post("/subscribe", data={"csrf_token": token, "email": "bad"}).status_code
                for _ in range(3)]
    assert statuses == [400, 400, 429]  # invalid input still counts against the limit
    refused = test_client.post("/subscribe", data={"csrf_token": token, "email": "ok@example.com"})
    assert refused.status_code == 429
    assert "Please wait a minute" in refused.get_data(as_text=True)


def test_client_ip_comes_from_trusted_proxies_only(app, newsletter, origin):
    from sqlalchemy import select

    from extensions import db
    from models import ConsentEvent

    def subscribe_via(client, email):
        client.post("/subscribe", headers={"X-Forwarded-For": "203.0.113.9"},
                    data={"csrf_token": csrf_token(client), "email": email})
        db.session.rollback()  # a fresh snapshot, to see the other app's write
        return db.session.scalars(select(ConsentEvent.ip).order_by(ConsentEvent.id.desc())).first()

    assert subscribe_via(app.test_client(), "direct@example.com") == "127.0.0.1"
    proxied = create_app({**app.config, "TRUSTED_PROXY_COUNT": 1})
    assert subscribe_via(proxied.test_client(), "proxied@example.com") == "203.0.113.9"


def test_one_address_is_limited_across_client_ips_on_the_hosted_form(app, newsletter):
    limited = create_app({**app.config, "RATELIMIT_ENABLED": True, "ADDRESS_POST_RATE_LIMIT": "2 per minute",
                          "PUBLIC_POST_RATE_LIMIT": "100 per minute"})
    statuses = []
    for n in range(3):
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        statuses.append(client.post("/subscribe", data={"csrf_token": csrf_token(client),
                                                        "email": "Target@Example.com"}).status_code)
    assert statuses == [303, 303, 429]


def test_the_staff_api_is_rate_limited_with_a_problem_answer(app, newsletter, issue_api_token):
    limited = create_app({**app.config, "RATELIMIT_ENABLED": True, "STAFF_API_RATE_LIMIT": "2 per minute"})
    token = issue_api_token()
    client = limited.test_client()
    statuses = [client.get("/api/v1/subscribers", headers={"Authorization": f"Bearer {token}"})
                for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("path", ["/subscribe", "/privacy"])
def test_public_form_posts_need_this_browsers_csrf_token(app, client, newsletter, path):
    with app.app_context():  # its own `g`, where Flask-WTF keeps the token it signed
        other_browser_token = csrf_token(app.test_client(), path)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": other_browser_token}):
        answer = client.post(path, data={"email": "victim@example.com", **data})
        assert answer.status_code == 400 and "expired" in answer.get_data(as_text=True)
    assert outbox_rows() == [] and db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    client.get(path)  # this browser's own token is accepted
    accepted = client.post(path, data={"email": "reader@example.com", "csrf_token": csrf_token(client, path)})
    assert accepted.status_code in (200, 303)


def test_the_session_cookie_is_signed_once_per_key_set_and_survives_key_rotation(app):
    interface = app.session_interface
    assert interface.get_signing_serializer(app) is interface.get_signing_serializer(app)  # made once
    app.config.update(SECRET_KEY="first-key-" * 4, SECRET_KEY_FALLBACKS=[])
    cookie = interface.get_signing_serializer(app).dumps({"staff": 1})
    app.config.update(SECRET_KEY="second-key" * 4, SECRET_KEY_FALLBACKS=["first-key-" * 4])
    rotated = interface.get_signing_serializer(app)
    assert rotated.loads(cookie) == {"staff": 1}  # still signed in after the key changed
    assert rotated.loads(rotated.dumps({"staff": 1})) == {"staff": 1}
    app.config.update(SECRET_KEY_FALLBACKS=[])  # the old key retired: its cookies are refused
    with pytest.raises(BadSignature):
        interface.get_signing_serializer(app).loads(cookie)
