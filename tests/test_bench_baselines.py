"""The hand-written sign-up in bench/ is a fair baseline only while it does Roster's work:
the same checks, and the same rows in Roster's tables."""

import re
from datetime import datetime

import pytest
from sqlalchemy import text

from bench.handwritten_app import create_app as create_handwritten_app
from extensions import db
from tests.conftest import ARTICLE_ORIGIN, ARTICLE_URL

SIGN_UP = {"full_name": "Ada Reader", "source": ARTICLE_URL}
HEADERS = {"Origin": ARTICLE_ORIGIN, "User-Agent": "Benchmark/1.0"}
TABLES = {"subscribers": "email", "outbox_messages": "recipient"}
STORED_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


@pytest.fixture
def handwritten(app, database_url):
    baseline = create_handwritten_app({
        "DATABASE_URL": database_url, "SECRET_KEY": app.config["SECRET_KEY"], "BASE_URL": app.config["BASE_URL"],
        "SITE_NAME": app.config["SITE_NAME"], "EMBED_ALLOWED_ORIGINS": ARTICLE_ORIGIN,
    })
    return baseline.test_client()


def stored(address: str) -> dict[str, list[dict]]:
    """Every row a sign-up wrote for this address, as the driver returns it, with what must
    differ between two sign-ups (keys, times, signed tokens, the address) made comparable."""
    def comparable(value):
        if isinstance(value, datetime) or (isinstance(value, str) and STORED_TIME.fullmatch(value)):
            return "a time"
        if isinstance(value, dict):  # JSON, as PostgreSQL's driver returns it
            return {key: comparable(item) for key, item in value.items()}
        if isinstance(value, str):
            value = value.replace(address, "ADDRESS")
            value = re.sub(r"/(confirm|unsubscribe)/[\w.-]+", r"/\1/TOKEN", value)
            return re.sub(r"^<[0-9a-f]{32}@", "<ID@", value)
        return value

    connection = db.session.connection()
    subscriber_id = connection.execute(text("SELECT id FROM subscribers WHERE email = :a"), {"a": address}).scalar()
    queries = {
        "subscribers": ("SELECT * FROM subscribers WHERE id = :s", {"s": subscriber_id}),
        "subscriptions": ("SELECT * FROM subscriptions WHERE subscriber_id = :s", {"s": subscriber_id}),
        "consent_events": ("SELECT * FROM consent_events WHERE subscriber_id = :s", {"s": subscriber_id}),
        "outbox_messages": ("SELECT * FROM outbox_messages WHERE recipient = :a", {"a": address}),
    }
    return {table: [{column: comparable(value) for column, value in row._mapping.items()
                     if column not in ("id", "subscriber_id")}
                    for row in connection.execute(text(sql), params)]
            for table, (sql, params) in queries.items()}


def test_the_handwritten_signup_writes_what_a_roster_signup_writes(client, handwritten, newsletter, embed_origins):
    for address in ("roster@example.com", "handwritten@example.com"):
        sender = client if address.startswith("roster") else handwritten
        answer = sender.post("/embed/subscribe", data={"email": address, **SIGN_UP}, headers=HEADERS)
        assert answer.status_code in (200, 303)
    db.session.rollback()  # a fresh snapshot: the handwritten app wrote through its own connection

    roster, by_hand = stored("roster@example.com"), stored("handwritten@example.com")
    assert all(len(roster[table]) == 1 for table in roster)
    assert roster == by_hand


def test_the_handwritten_signup_makes_the_checks_roster_makes(handwritten, newsletter):
    assert handwritten.post("/subscribe", data={"email": "a@example.com"}).status_code == 400  # no CSRF token
    page = handwritten.get("/subscribe").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    signed_up = handwritten.post("/subscribe", data={"email": "a@example.com", "csrf_token": token})
    assert signed_up.status_code == 303
    assert handwritten.post("/embed/subscribe", data={"email": "b@example.com"},
                            headers={"Origin": "https://elsewhere.example"}).status_code == 403
    refused = handwritten.post("/embed/subscribe", data={"email": "not an address"}, headers=HEADERS)
    assert refused.status_code == 400
