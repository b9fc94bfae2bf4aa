"""The hand-written sign-up in bench/ is a fair baseline only while it does Roster's work:
the same checks, and the same rows in Roster's tables."""

import re
from datetime import datetime

import pytest
from sqlalchemy import select, text

from bench.handwritten_app import create_app as create_handwritten_app
from extensions import db
from models import OutboxMessage
from models.base import LINK_KEY_LENGTH
from services.core.tokens import Purpose, read_token
from tests.support import ARTICLE_ORIGIN, ARTICLE_URL, csrf_token

SIGN_UP = {"full_name": "Ada Reader", "source": f"{ARTICLE_URL}?utm_source=newsletter&page=2",
           "source_title": "Ministers call for a summit"}
HEADERS = {"Origin": ARTICLE_ORIGIN, "User-Agent": "Benchmark/1.0", "Referer": f"{ARTICLE_URL}?from=home"}
STORED_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
LINK_PURPOSES = {"confirm": Purpose.CONFIRM_SUBSCRIPTION, "unsubscribe": Purpose.UNSUBSCRIBE}


@pytest.fixture
def handwritten(app, database_url):
    baseline = create_handwritten_app({
        "DATABASE_URL": database_url, "SECRET_KEY": app.config["SECRET_KEY"], "BASE_URL": app.config["BASE_URL"],
        "SITE_NAME": app.config["SITE_NAME"], "EMBED_ALLOWED_ORIGINS": ARTICLE_ORIGIN,
    })
    return baseline.test_client()


def signed_link(match: re.Match) -> str:
    """A mailed link, checked as Roster checks it (key, purpose, signature), shown by what it names."""
    payload, _ = read_token(LINK_PURPOSES[match[1]], match[2])
    return f"/{match[1]}/<{', '.join(sorted(payload))}>"


def stored(address: str) -> dict[str, list[dict]]:
    """Every row the sign-ups wrote for this address, as the driver returns it, with what must
    differ between two people (keys, link keys, times, signed tokens, the address) made comparable."""
    def comparable(column, value):
        if column == "link_key":
            return "a link key" if len(value) == LINK_KEY_LENGTH else value
        if isinstance(value, datetime) or (isinstance(value, str) and STORED_TIME.fullmatch(value)):
            return "a time"
        if isinstance(value, dict):  # JSON, as PostgreSQL's driver returns it
            return {key: comparable(key, item) for key, item in value.items()}
        if isinstance(value, str):
            value = re.sub(r"/(confirm|unsubscribe)/([\w.-]+)", signed_link, value.replace(address, "ADDRESS"))
            return re.sub(r"^<[0-9a-f]{32}@", "<ID@", value)
        return value

    connection = db.session.connection()
    subscriber_id = connection.execute(text("SELECT id FROM subscribers WHERE email = :a"), {"a": address}).scalar()
    queries = {
        "subscribers": ("SELECT * FROM subscribers WHERE id = :s", {"s": subscriber_id}),
        "subscriptions": ("SELECT * FROM subscriptions WHERE subscriber_id = :s", {"s": subscriber_id}),
        "consent_events": ("SELECT * FROM consent_events WHERE subscriber_id = :s ORDER BY id", {"s": subscriber_id}),
        "outbox_messages": ("SELECT * FROM outbox_messages WHERE recipient = :a ORDER BY id", {"a": address}),
    }
    return {table: [{column: comparable(column, value) for column, value in row._mapping.items()
                     if column not in ("id", "subscriber_id")}
                    for row in connection.execute(text(sql), params)]
            for table, (sql, params) in queries.items()}


@pytest.mark.parametrize(("path", "answer"), [("/subscribe", 303), ("/embed/subscribe", 200)])
def test_the_handwritten_signup_writes_what_a_roster_signup_writes(client, handwritten, newsletter, embed_origins,
                                                                   path, answer):
    for sender, address in ((client, "roster@example.com"), (handwritten, "handwritten@example.com")):
        data = {"email": address, **SIGN_UP}
        if path == "/subscribe":
            data["csrf_token"] = csrf_token(sender)
        # a sign-up, then the same again: a second consent event, and the throttle holds back a second mail
        assert [sender.post(path, data=data, headers=HEADERS).status_code for _ in range(2)] == [answer, answer]
    db.session.rollback()  # a fresh snapshot: the handwritten app wrote through its own connection

    roster, by_hand = stored("roster@example.com"), stored("handwritten@example.com")
    assert [len(rows) for rows in roster.values()] == [1, 1, 2, 1]
    assert roster == by_hand
    for mail in db.session.scalars(select(OutboxMessage.text_body)):  # each one's links open its own rows
        for link in re.findall(r"/(?:confirm|unsubscribe)/[\w.-]+", mail):
            assert client.get(link).status_code == 200


def test_the_handwritten_signup_makes_the_checks_roster_makes(handwritten, newsletter):
    assert handwritten.post("/subscribe", data={"email": "a@example.com"}).status_code == 400  # no CSRF token
    signed_up = handwritten.post("/subscribe", data={"email": "a@example.com", "csrf_token": csrf_token(handwritten)})
    assert signed_up.status_code == 303
    assert handwritten.post("/embed/subscribe", data={"email": "b@example.com"},
                            headers={"Origin": "https://elsewhere.example"}).status_code == 403
    for refused in ({"email": "not an address"}, {"email": "c@example.com", "full_name": "Bell\x07"}):
        assert handwritten.post("/embed/subscribe", data=refused, headers=HEADERS).status_code == 400
