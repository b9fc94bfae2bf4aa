"""The subscription service: double opt-in, throttling, concurrency, tokens."""


import re

import pytest
from sqlalchemy import func, select

from extensions import db
from models import ConsentAction, ConsentEvent, OutboxMessage, Subscriber, Subscription, SubscriptionStatus
from services.core.errors import InvalidInput, InvalidToken, SignupsClosed
from services.mail import opt_in_throttle
from services.subscriptions import statements, subscriptions
from tests.support import link_path, outbox_rows, run_concurrently


def only_subscription() -> Subscription:
    return db.session.scalars(select(Subscription)).one()


def token_of(mail, kind: str) -> str:
    return link_path(mail, kind).rsplit("/", 1)[1]


def test_subscribe_writes_subscriber_pending_subscription_consent_and_mail(newsletter, origin):
    subscriptions.subscribe("Reader@Example.COM", "  Ada Reader ", origin)

    subscriber = db.session.scalars(select(Subscriber)).one()
    assert subscriber.email == "Reader@example.com"  # domain normalised, local part kept
    assert subscriber.full_name == "Ada Reader"
    subscription = only_subscription()
    assert subscription.status == SubscriptionStatus.PENDING
    assert subscription.source_url == "https://news.example/article"
    event = db.session.scalars(select(ConsentEvent)).one()
    assert (event.action, event.ip, event.wording_version, event.form) == (
        ConsentAction.SUBSCRIBE_REQUESTED, "192.0.2.1", "subscribe-v1", "test")
    [mail] = outbox_rows()
    assert mail.recipient == "Reader@example.com"
    assert "confirm" in mail.subject.lower()


def test_a_caller_that_read_first_sees_the_sign_up(newsletter, origin):
    """The sign-up writes on a connection of its own; a read transaction the caller
    had open would otherwise keep showing the database as it was (SQLite's snapshot)."""
    count = select(func.count()).select_from(Subscriber)
    assert db.session.scalar(count) == 0
    subscriptions.subscribe("reader@example.com", "", origin)
    assert db.session.scalar(count) == 1


def test_addresses_differing_in_case_are_one_subscriber(newsletter, origin):
    subscriptions.subscribe("reader@example.com", "", origin)
    subscriptions.subscribe("READER@EXAMPLE.COM", "", origin)
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 1


def test_fifty_submissions_of_one_address_send_one_mail(newsletter, origin):
    for _ in range(50):
        subscriptions.subscribe("bombed@example.com", "Target", origin)
    assert len(outbox_rows()) == 1


def test_at_most_five_opt_in_mails_a_day(app, newsletter, origin):
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    for _ in range(8):
        subscriptions.subscribe("daily@example.com", "", origin)
    assert len(outbox_rows()) == 5


@pytest.mark.parametrize("known_address", [False, True], ids=["new", "existing"])
def test_concurrent_identical_submissions_make_one_subscriber_and_one_mail(
    app, newsletter, origin, known_address
):
    if known_address:
        # A confirmed subscriber whose last mail is outside the window: nothing is
        # written before the throttle check, so only the row lock keeps them apart.
        subscriptions.subscribe("race@example.com", "Racer", origin)
        only_subscription().status = SubscriptionStatus.CONFIRMED
        db.session.query(OutboxMessage).delete()
        db.session.commit()
    _, errors = run_concurrently(app, lambda: subscriptions.subscribe("race@example.com", "Racer", origin), 20)
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 1
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
    assert len(outbox_rows()) == 1


def test_confirm_then_already_subscribed_mail(app, newsletter, origin, deliver):
    subscriptions.subscribe("ok@example.com", "", origin)
    [mail] = deliver(1)
    outcome = subscriptions.confirm(token_of(mail, "confirm"), origin)
    assert outcome.already_confirmed is False
    assert only_subscription().status == SubscriptionStatus.CONFIRMED
    assert only_subscription().confirmed_at is not None

    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    subscriptions.subscribe("ok@example.com", "", origin)
    mails = deliver(2)
    assert "already subscribed" in mails[1]["Subject"]
    assert subscriptions.confirm(token_of(mail, "confirm"), origin).already_confirmed is True


def test_unsubscribe_then_resubscribe_needs_a_fresh_confirmation(app, newsletter, origin, deliver):
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    subscriptions.subscribe("back@example.com", "", origin)
    [first] = deliver(1)
    subscriptions.confirm(token_of(first, "confirm"), origin)
    subscriptions.unsubscribe(token_of(first, "unsubscribe"), origin)
    assert only_subscription().status == SubscriptionStatus.UNSUBSCRIBED

    # Backdate the unsubscription so the old link is clearly older than it.
    subscription = only_subscription()
    old_link_time = subscription.unsubscribed_at
    subscription.unsubscribed_at = old_link_time.replace(year=old_link_time.year + 1)
    db.session.commit()
    with pytest.raises(InvalidToken):
        subscriptions.confirm(token_of(first, "confirm"), origin)

    subscription = only_subscription()
    subscription.unsubscribed_at = old_link_time
    db.session.commit()
    subscriptions.subscribe("back@example.com", "", origin)
    assert only_subscription().status == SubscriptionStatus.UNSUBSCRIBED  # not until confirmed
    second = deliver(2)[1]
    subscriptions.confirm(token_of(second, "confirm"), origin)
    assert only_subscription().status == SubscriptionStatus.CONFIRMED
    actions = db.session.scalars(select(ConsentEvent.action).order_by(ConsentEvent.id)).all()
    assert actions == ["subscribe_requested", "confirmed", "unsubscribed",
                       "subscribe_requested", "confirmed"]


def test_confirm_token_cannot_unsubscribe_and_vice_versa(newsletter, origin, deliver):
    subscriptions.subscribe("purpose@example.com", "", origin)
    [mail] = deliver(1)
    with pytest.raises(InvalidToken):
        subscriptions.unsubscribe(token_of(mail, "confirm"), origin)
    with pytest.raises(InvalidToken):
        subscriptions.confirm(token_of(mail, "unsubscribe"), origin)
    assert only_subscription().status == SubscriptionStatus.PENDING


def test_private_lists_cannot_be_joined_from_public_forms(newsletter, make_list, origin):
    make_list("staff-only", public=False)
    with pytest.raises(InvalidInput):
        subscriptions.subscribe("x@example.com", "", origin, list_slug="staff-only")
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_a_form_naming_a_public_list_joins_that_list_and_its_mail_names_it(newsletter, make_list, origin):
    weekly = make_list("weekly")
    subscriptions.subscribe("named@example.com", "", origin, list_slug="weekly")
    assert only_subscription().list_id == weekly.id
    assert weekly.name in outbox_rows()[0].subject


def test_signing_up_with_no_list_is_refused_as_closed_and_writes_nothing(app, origin):
    with pytest.raises(SignupsClosed):
        subscriptions.subscribe("early@example.com", "", origin)
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert outbox_rows() == []


def test_preferences_join_and_leave_public_lists(newsletter, make_list, origin, deliver):
    weekly = make_list("weekly")
    make_list("hidden", public=False)
    subscriptions.subscribe("prefs@example.com", "", origin)
    [mail] = deliver(1)
    token = token_of(mail, "unsubscribe")
    subscriptions.confirm(token_of(mail, "confirm"), origin)

    _, lists = subscriptions.preferences(token)
    assert {p.name for p in lists} == {newsletter.name, weekly.name}

    subscriptions.update_preferences(token, {weekly.id}, origin)
    _, lists = subscriptions.preferences(token)
    assert {p.name: p.receiving for p in lists} == {newsletter.name: False, weekly.name: True}
    # Joined on Roster's own page, whose URL is the reader's private link: no source.
    assert db.session.scalars(select(Subscription.source_url).where(Subscription.list_id == weekly.id)).one() is None


@pytest.mark.parametrize("email", ["", "   ", "not-an-address", "a@b", "x" * 390 + "@example.com",
                                   "bad\ufffd@example.com"])
def test_invalid_addresses_are_refused_and_nothing_is_stored(newsletter, origin, email):
    with pytest.raises(InvalidInput) as raised:
        subscriptions.subscribe(email, "Name", origin)
    assert raised.value.field == "email"
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert outbox_rows() == []


@pytest.mark.parametrize("name", ["x" * 201, "Eve\r\nBcc: x@y.test", "tab\there", "nul\x00", "bad \ufffd utf8"])
def test_invalid_names_are_refused(newsletter, origin, name):
    with pytest.raises(InvalidInput) as raised:
        subscriptions.subscribe("name@example.com", name, origin)
    assert raised.value.field == "full_name"
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_addresses_differing_in_case_get_one_confirmation_mail_a_window(newsletter, origin):
    for address in ("bomb@example.com", "Bomb@example.com", "bOmb@example.com"):
        subscriptions.subscribe(address, "", origin)
    assert [m.recipient for m in outbox_rows()] == ["bomb@example.com"]


def test_the_sign_up_reads_the_throttle_as_the_throttle_reads_itself():
    """The subscription upsert carries the throttle's two subqueries written out (one round
    trip, under the row lock): a change to the throttle's reading is a change to both."""
    def folded(statement) -> str:
        return " ".join(str(statement).split())

    reading = re.findall(r"\(SELECT (?:count|max)\(.*?\) FROM outbox_messages .*?:since\)",
                         folded(opt_in_throttle.READING))
    assert len(reading) == 2
    assert all(subquery in folded(statements.UPSERT_SUBSCRIPTION) for subquery in reading)
