"""The hosted form and the mailed links, through the test client."""

import time

import itsdangerous
import pytest
from sqlalchemy import func, select

from app import create_app
from extensions import db
from models import ConsentEvent, Subscriber, Subscription, SubscriptionStatus
from services.console import dashboard
from tests.support import csrf_token, link_path, outbox_rows


def post_subscribe(client, email, full_name="", **extra):
    data = {"csrf_token": csrf_token(client), "email": email, "full_name": full_name, **extra}
    return client.post("/subscribe", data=data)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def status_of_only_subscription():
    return db.session.scalars(select(Subscription.status)).one()


def test_form_has_labels_required_note_and_named_fields(client, newsletter):
    page = client.get("/subscribe").get_data(as_text=True)
    assert 'name="full_name"' in page and 'name="email"' in page
    assert "indicates required" in page
    assert '<label for="full_name">Full Name' in page
    assert '<label for="email">Email Address' in page
    assert 'name="csrf_token"' in page


def test_identical_answers_for_new_pending_confirmed_and_unsubscribed(app, client, newsletter, deliver):
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0

    def answer(email):
        response = post_subscribe(client, email)
        followed = client.get(response.headers["Location"])
        # The page repeats the address typed, so that a typo shows: alike for every address.
        return response.status_code, response.headers["Location"], \
            followed.get_data(as_text=True).replace(email, "ADDRESS")

    new = answer("new@example.com")
    post_subscribe(client, "pending@example.com")
    pending = answer("pending@example.com")

    post_subscribe(client, "confirmed@example.com")
    post_subscribe(client, "gone@example.com")
    mails = deliver(4)
    for mail in mails[2:]:
        client.post(link_path(mail, "confirm"))
    client.post(link_path(mails[3], "unsubscribe"))
    confirmed = answer("confirmed@example.com")
    unsubscribed = answer("gone@example.com")

    assert new == pending == confirmed == unsubscribed
    assert new[0] == 303 and "Check your inbox" in new[2] and "<strong>ADDRESS</strong>" in new[2]


def test_get_of_confirm_link_changes_nothing_and_post_confirms(client, newsletter, deliver):
    post_subscribe(client, "scan@example.com")
    [mail] = deliver(1)
    path = link_path(mail, "confirm")

    page = client.get(path)
    assert page.status_code == 200
    assert f'action="{path}"' in page.get_data(as_text=True)
    assert "autosubmit.js" in page.get_data(as_text=True)
    assert status_of_only_subscription() == SubscriptionStatus.PENDING

    assert client.post(path).status_code == 200
    assert status_of_only_subscription() == SubscriptionStatus.CONFIRMED


def test_one_click_unsubscribe_without_cookies_answers_200(app, client, newsletter, deliver):
    post_subscribe(client, "leave@example.com")
    [mail] = deliver(1)
    client.post(link_path(mail, "confirm"))
    one_click_url = mail["List-Unsubscribe"].strip("<>")
    path = one_click_url.removeprefix(app.config["BASE_URL"])

    assert client.get(path).status_code == 200
    assert status_of_only_subscription() == SubscriptionStatus.CONFIRMED

    fresh = app.test_client(use_cookies=False)
    response = fresh.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert status_of_only_subscription() == SubscriptionStatus.UNSUBSCRIBED
    assert db.session.scalars(select(ConsentEvent.action).order_by(ConsentEvent.id.desc())).first() == "unsubscribed"


def old_token(purpose_salt: str, payload: dict, age_seconds: int, secret: str) -> str:
    signer = itsdangerous.URLSafeTimedSerializer(secret, salt=purpose_salt)
    original = itsdangerous.TimestampSigner.get_timestamp
    itsdangerous.TimestampSigner.get_timestamp = lambda self: int(time.time()) - age_seconds
    try:
        return signer.dumps(payload)
    finally:
        itsdangerous.TimestampSigner.get_timestamp = original


@pytest.mark.parametrize("kind", ["tampered", "expired", "wrong-purpose"])
def test_bad_confirm_links_get_a_clear_page_and_change_nothing(app, client, newsletter, deliver, kind):
    post_subscribe(client, "token@example.com")
    [mail] = deliver(1)
    path = link_path(mail, "confirm")
    subscription = db.session.scalars(select(Subscription)).one()
    if kind == "tampered":
        path = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    elif kind == "expired":
        token = old_token("roster.confirm-subscription", {"i": subscription.id, "k": subscription.link_key},
                          8 * 24 * 3600, app.config["SECRET_KEY"])
        path = f"/confirm/{token}"
    else:
        path = "/confirm/" + link_path(mail, "unsubscribe").rsplit("/", 1)[1]

    for response in (client.get(path), client.post(path)):
        assert response.status_code in (400, 410)
        body = response.get_data(as_text=True)
        assert "This link does not work" in body
        assert "Send me a new link" in body
    assert status_of_only_subscription() == SubscriptionStatus.PENDING


def test_tampered_unsubscribe_link_changes_nothing(client, newsletter, deliver):
    post_subscribe(client, "keep@example.com")
    [mail] = deliver(1)
    client.post(link_path(mail, "confirm"))
    path = link_path(mail, "unsubscribe") + "x"
    assert client.post(path).status_code == 400
    assert status_of_only_subscription() == SubscriptionStatus.CONFIRMED


@pytest.mark.parametrize(("email", "full_name", "field", "message"), [
    ("", "Ann", "email", "Enter your email address."),
    ("nope", "Ann", "email", "Enter a valid email address: it needs a name, an @ sign and a domain"),
    ("a" * 388 + "@example.com", "Ann", "email", "too long"),
    ("ok@example.com", "n" * 10_000, "full_name", "at most 200 characters"),
    ("ok@example.com", "Eve\r\nBcc: x@y.test", "full_name", "not allowed"),
    ("ok@example.com", "Bell\x07", "full_name", "not allowed"),
])
def test_bad_input_is_shown_beside_the_field_and_nothing_is_stored(client, newsletter, email, full_name,
                                                                   field, message):
    response = post_subscribe(client, email, full_name)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body and message in body
    assert f'aria-describedby="{field}-error' in body
    if field == "full_name" and len(full_name) < 300:
        assert f'value="{email}"' in body  # the input is kept
    assert count(Subscriber) == 0 and outbox_rows() == []


@pytest.mark.parametrize("fields", [b"email=bad\xff\xfe@example.com&full_name=Ann",
                                    b"email=ok@example.com&full_name=\xc3\x28"])
def test_invalid_utf8_is_refused(client, newsletter, fields):
    body = b"csrf_token=" + csrf_token(client).encode() + b"&" + fields
    response = client.post("/subscribe", data=body, content_type="application/x-www-form-urlencoded")
    # Werkzeug discards a body that is not valid UTF-8, so the form arrives empty.
    assert response.status_code == 400
    assert "<h1>Bad request</h1>" in response.get_data(as_text=True)
    assert count(Subscriber) == 0


def test_missing_csrf_token_is_refused(client, newsletter):
    response = client.post("/subscribe", data={"email": "x@example.com"})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert count(Subscriber) == 0


def test_wrong_method_answers_405(client, newsletter):
    response = client.put("/subscribe", data={"email": "x@example.com"})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert count(Subscriber) == 0


def test_honeypot_gets_the_same_answer_and_nothing_is_stored(client, newsletter):
    response = post_subscribe(client, "bot@example.com", website="http://spam.example")
    assert response.status_code == 303
    assert count(Subscriber) == 0 and outbox_rows() == []


def test_name_with_header_injection_adds_no_recipient(client, newsletter, smtp_sink, deliver):
    post_subscribe(client, "eve@example.com", "Eve\r\nBcc: x@y.test")
    post_subscribe(client, "eve2@example.com", "Eve Bcc: x@y.test")
    [mail] = deliver(1)
    assert smtp_sink.envelopes == [("roster@localhost", ["eve2@example.com"])]
    assert mail["Bcc"] is None


def test_healthz_answers_200_with_database_and_503_without(client, tmp_path):
    assert client.get("/healthz").status_code == 200
    broken = create_app({"APP_ENV": "testing",
                         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"})
    assert broken.test_client().get("/healthz").status_code == 503


def test_unknown_or_private_list_is_explained_on_the_form(client, newsletter, make_list):
    make_list("staff-only", public=False)
    for slug in ("staff-only", "no-such-list"):
        response = post_subscribe(client, "reader@example.com", list=slug)
        assert response.status_code == 400
        assert "That newsletter does not exist." in response.get_data(as_text=True)
    assert count(Subscriber) == 0


def test_joining_a_list_from_the_preferences_page_records_no_link_of_ours(app, client, newsletter, make_list,
                                                                          deliver):
    """A browser sends the page's own URL as Referer; on Roster's pages that URL is the reader's private link."""
    weekly = make_list("weekly")
    post_subscribe(client, "private@example.com")
    [mail] = deliver(1)
    base = app.config["BASE_URL"]
    confirm_path = link_path(mail, "confirm")
    client.post(confirm_path, headers={"Referer": base + confirm_path})
    preferences_path = link_path(mail, "unsubscribe")
    token = preferences_path.rsplit("/", 1)[1]
    answer = client.post(f"/preferences/{token}", data={"lists": [str(newsletter.id), str(weekly.id)]},
                         headers={"Referer": base + preferences_path})
    assert answer.status_code == 200

    joined = db.session.scalars(select(Subscription).where(Subscription.list_id == weekly.id)).one()
    assert joined.status == SubscriptionStatus.CONFIRMED
    assert (joined.source_url, joined.referrer) == (None, None)
    events = db.session.execute(select(ConsentEvent.form, ConsentEvent.action, ConsentEvent.source_url)
                                .order_by(ConsentEvent.id)).all()
    assert [tuple(event) for event in events] == [
        ("hosted", "subscribe_requested", None), ("confirm-link", "confirmed", None),
        ("preferences", "joined_from_preferences", None)]
    assert dashboard.top_sources(db.session) == []
