"""Bounce and complaint reports piped to `flask bounces ingest`: real formats of Postfix,
Exim and Gmail DSNs and a Yahoo ARF report, matched to their mail by its signed VERP
address, never by the addresses a report claims."""

from pathlib import Path

import pytest
from sqlalchemy import select

from extensions import db
from models import (
    BounceEvent,
    BounceKind,
    ConsentAction,
    ConsentEvent,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from services.core.transactions import write_transaction
from services.mail import bounces, verp
from services.mail.bounces import Bounce
from services.mail.outbox_worker import drain
from services.subscriptions import subscriptions
from tests.support import link_path, outbox_rows

SAMPLES = Path(__file__).parent.parent / "fixtures" / "bounces"


def sample(name: str, *, recipient: str, verp_address: str, message_id: str) -> bytes:
    text = (SAMPLES / name).read_text()
    return (text.replace("{{VERP}}", verp_address).replace("{{RECIPIENT}}", recipient)
            .replace("{{MESSAGE_ID}}", message_id)).encode()


@pytest.fixture
def sent_mail(app, newsletter, origin, smtp_sink):
    """A confirmed reader, and the confirmation mail that went to them (from its VERP address)."""
    app.config["BOUNCE_ADDRESS"] = "bounces@bounce.news.example"
    subscriptions.subscribe("Reader@example.com", "Ada", origin)
    drain()
    mail = smtp_sink.wait_for(1)[0]
    subscriptions.confirm(link_path(mail, "confirm").rsplit("/", 1)[1], origin)
    return outbox_rows()[0], smtp_sink.envelopes[0][0]


def ingest(app, raw: bytes, *args: str):
    return app.test_cli_runner().invoke(args=["bounces", "ingest", *args], input=raw)


@pytest.mark.parametrize("name", ["postfix.eml", "exim.eml", "gmail.eml"])
def test_a_permanent_failure_report_suppresses_the_address(app, sent_mail, name):
    row, envelope_sender = sent_mail
    result = ingest(app, sample(name, recipient="reader@example.com", verp_address=envelope_sender,
                                message_id=row.message_id))
    assert result.exit_code == 0, result.output
    assert "recorded: hard" in result.output
    listed = db.session.scalar(select(Suppression))
    assert (listed.address, listed.reason, listed.created_by) == (
        "reader@example.com", SuppressionReason.HARD_BOUNCE, "dsn")
    assert "5.1.1" in listed.detail or "5.0.0" in listed.detail
    event = db.session.scalar(select(BounceEvent))
    assert (event.kind, event.message_id, event.subscriber_id is not None) == (BounceKind.HARD, row.message_id, True)
    assert ConsentAction.SUPPRESSED in db.session.scalars(select(ConsentEvent.action)).all()


def test_an_abuse_report_unsubscribes_everywhere_and_suppresses(app, sent_mail):
    row, envelope_sender = sent_mail
    raw = sample("arf.eml", recipient="reader@example.com", verp_address=envelope_sender, message_id=row.message_id)
    result = ingest(app, raw)
    assert result.exit_code == 0 and "recorded: complaint" in result.output
    assert db.session.scalar(select(Suppression.reason)) == SuppressionReason.COMPLAINT
    assert db.session.scalar(select(Subscription.status)) == SubscriptionStatus.UNSUBSCRIBED
    unsubscribed = db.session.scalar(select(ConsentEvent).where(ConsentEvent.action == ConsentAction.UNSUBSCRIBED))
    assert unsubscribed.form == "complaint:arf" and unsubscribed.list_id is not None
    assert "abuse" in db.session.scalar(select(BounceEvent.reason))


def test_a_report_naming_no_mail_of_ours_changes_nothing(app, sent_mail):
    _row, envelope_sender = sent_mail
    forged = envelope_sender.replace("bounces+o", "bounces+o9")  # a token whose signature fails
    raw = sample("postfix.eml", recipient="reader@example.com", verp_address=forged, message_id="<made-up@x>")
    result = ingest(app, raw)
    assert result.exit_code == 0 and "ignored" in result.output
    assert db.session.scalar(select(Suppression)) is None
    assert db.session.scalar(select(BounceEvent)) is None
    assert db.session.scalar(select(Subscriber.suppressed_at)) is None


def test_a_message_that_is_no_report_is_ignored_with_success(app, sent_mail):
    result = ingest(app, b"From: someone@example.com\nSubject: Out of office\n\nI am away.\n")
    assert result.exit_code == 0 and "ignored" in result.output
    assert ingest(app, b"\x00\xff not mail at all").exit_code == 0


def test_the_report_is_matched_by_the_address_it_was_delivered_to(app, sent_mail):
    row, envelope_sender = sent_mail
    raw = sample("exim.eml", recipient="someone-else@example.com", verp_address="bounces@bounce.news.example",
                 message_id="<not-ours@example.com>")
    result = ingest(app, raw, "--recipient", envelope_sender)  # Postfix's ${recipient}
    assert "recorded: hard for Reader@example.com" in result.output
    assert verp.read(envelope_sender).id == row.id
    assert db.session.scalar(select(Suppression.address)) == "reader@example.com"


def test_a_delayed_report_counts_a_soft_bounce_and_suppresses_only_at_the_limit(app, sent_mail):
    app.config["SOFT_BOUNCE_LIMIT"] = 2
    row, envelope_sender = sent_mail
    raw = sample("postfix-delayed.eml", recipient="reader@example.com", verp_address=envelope_sender,
                 message_id=row.message_id)
    for _ in range(2):  # the MTA warns again about the same mail: it counts once
        result = ingest(app, raw)
        assert result.exit_code == 0 and "recorded: soft" in result.output, result.output
    events = db.session.scalars(select(BounceEvent)).all()
    assert [(e.kind, e.message_id) for e in events] == [(BounceKind.SOFT, row.message_id)] * 2
    assert "4.2.2" in events[0].reason
    assert db.session.scalar(select(Suppression)) is None
    assert db.session.scalar(select(Subscriber.suppressed_at)) is None

    with write_transaction() as session:  # a second mail to the address is delayed too: the limit
        assert bounces.record(session, Bounce("reader@example.com", BounceKind.SOFT, "dsn", "4.2.2",
                                              "<another-mail@news.example>"))
    listed = db.session.scalar(select(Suppression))
    assert (listed.address, listed.reason) == ("reader@example.com", SuppressionReason.SOFT_BOUNCES)
