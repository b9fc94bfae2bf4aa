"""SMTP refusals at send time, from a real server on loopback that refuses chosen
recipients: a 5xx is a hard bounce (no retry, suppressed), a 4xx a soft one (retried)."""

import smtplib

from sqlalchemy import select

from extensions import db
from models import BounceEvent, BounceKind, OutboxStatus, Subscriber, Suppression, SuppressionReason
from services.mail import refusals, verp
from services.mail.outbox_worker import drain
from services.subscriptions import subscriptions
from tests.support import outbox_rows

USER_UNKNOWN = "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown in virtual mailbox table"
GREYLISTED = "451 4.7.1 <later@example.com>: Recipient address rejected: Greylisted, try again in 300 seconds"


def test_a_550_fails_the_mail_at_once_and_suppresses_the_address(app, newsletter, origin, smtp_sink):
    smtp_sink.refuse["gone@example.com"] = USER_UNKNOWN
    subscriptions.subscribe("Gone@example.com", "", origin)
    subscriptions.subscribe("fine@example.com", "", origin)

    result = drain()

    assert (result.sent, result.gave_up) == (1, 1)
    assert [mail["To"] for mail in smtp_sink.wait_for(1)] == ["fine@example.com"]
    assert smtp_sink.greetings == 1  # the refusal reset the connection; it did not end it
    refused = outbox_rows()[0]
    assert (refused.status, refused.attempts) == (OutboxStatus.FAILED, 1)
    assert "550 5.1.1" in refused.last_error and "User unknown" in refused.last_error
    listed = db.session.scalar(select(Suppression))
    assert (listed.address, listed.reason, listed.created_by) == (
        "gone@example.com", SuppressionReason.HARD_BOUNCE, "smtp")
    assert "User unknown" in listed.detail
    assert db.session.scalar(select(Subscriber.suppressed_at).where(Subscriber.email == "Gone@example.com"))
    event = db.session.scalar(select(BounceEvent))
    assert (event.kind, event.source, event.message_id) == (BounceKind.HARD, "smtp", refused.message_id)


def test_a_451_is_retried_and_counts_a_soft_bounce(app, newsletter, origin, smtp_sink):
    app.config["OUTBOX_BACKOFF_SECONDS"] = 0
    smtp_sink.refuse["later@example.com"] = GREYLISTED
    subscriptions.subscribe("later@example.com", "", origin)

    assert drain().failed_attempts == 1
    row = outbox_rows()[0]
    assert (row.status, row.attempts) == (OutboxStatus.QUEUED, 1) and "451 4.7.1" in row.last_error
    assert db.session.scalar(select(BounceEvent.kind)) == BounceKind.SOFT
    assert db.session.scalar(select(Suppression)) is None

    del smtp_sink.refuse["later@example.com"]  # the greylisting passes
    assert drain().sent == 1
    assert [mail["To"] for mail in smtp_sink.wait_for(1)] == ["later@example.com"]


def test_soft_bounces_of_enough_different_mails_suppress(app, newsletter, make_list, origin, smtp_sink):
    app.config.update(SOFT_BOUNCE_LIMIT=2, OUTBOX_BACKOFF_SECONDS=0, OPT_IN_MAIL_MIN_INTERVAL_SECONDS=0)
    smtp_sink.refuse["later@example.com"] = GREYLISTED
    subscriptions.subscribe("later@example.com", "", origin)
    drain()
    drain()  # the same mail twice: one mail bounced
    assert db.session.scalar(select(Suppression)) is None

    other = make_list("offers")
    subscriptions.subscribe("later@example.com", "", origin, list_slug=other.slug)
    drain()
    assert db.session.scalar(select(Suppression.reason)) == SuppressionReason.SOFT_BOUNCES


def test_each_mail_goes_from_its_own_signed_bounce_address(app, newsletter, origin, smtp_sink):
    app.config["BOUNCE_ADDRESS"] = "bounces@bounce.news.example"
    subscriptions.subscribe("reader@example.com", "", origin)
    drain()
    smtp_sink.wait_for(1)
    envelope_sender = smtp_sink.envelopes[0][0]
    local, domain = envelope_sender.split("@")
    assert domain == "bounce.news.example" and local.startswith("bounces+") and len(local) <= 64
    assert verp.read(envelope_sender) == verp.MailRef(verp.OUTBOX, outbox_rows()[0].id)
    forged = envelope_sender.replace(f"o{outbox_rows()[0].id}-", f"o{outbox_rows()[0].id + 1}-")
    assert verp.read(forged) is None
    assert verp.read(envelope_sender.upper()) == verp.read(envelope_sender)  # a relay that folds case


def test_refusals_per_recipient_and_after_data():
    refused = smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"5.1.1 no such user"),
                                             "b@example.com": (452, b"4.2.2 mailbox full")})
    found = refusals.refusals(refused, ["A@example.com", "b@example.com", "c@example.com"])
    assert [(r.recipient, r.code, r.permanent) for r in found] == [
        ("A@example.com", 550, True), ("b@example.com", 452, False)]
    after_data = refusals.refusal(smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"), "a@example.com")
    assert (after_data.permanent, str(after_data)) == (True, "554 5.7.1 Message rejected as spam")
    # The sender refused is no fault of the recipient's address: retried, never a hard bounce.
    assert not refusals.refusal(smtplib.SMTPSenderRefused(550, b"5.7.1 relay denied", "x@y"), "a@example.com").permanent
    assert refusals.refusal(ConnectionRefusedError(111, "Connection refused"), "a@example.com") is None
