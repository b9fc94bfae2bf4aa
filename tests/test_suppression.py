"""A suppressed address (e.g. Mailchimp's "cleaned") is never mailed."""

from datetime import UTC, datetime

from sqlalchemy import update

from extensions import db
from models import OutboxStatus, Subscriber
from services import subscriptions
from services.outbox_worker import drain
from tests.conftest import outbox_rows


def test_subscribing_a_suppressed_address_queues_no_mail(newsletter, origin, deliver):
    db.session.add(Subscriber(email="Bounced@example.com", suppressed_at=datetime.now(UTC),
                              suppression_reason="cleaned"))
    db.session.commit()
    subscriptions.subscribe("bounced@EXAMPLE.com", "", origin)  # answers as for anyone else
    subscriptions.subscribe("fine@example.com", "", origin)
    assert [row.recipient for row in outbox_rows()] == ["fine@example.com"]
    assert [mail["To"] for mail in deliver(1)] == ["fine@example.com"]


def test_mail_queued_before_the_address_was_suppressed_is_held_back(newsletter, origin, smtp_sink):
    subscriptions.subscribe("later-cleaned@example.com", "", origin)
    subscriptions.subscribe("fine@example.com", "", origin)
    db.session.execute(update(Subscriber).where(Subscriber.email == "later-cleaned@example.com")
                       .values(suppressed_at=datetime.now(UTC), suppression_reason="cleaned"))
    db.session.commit()

    assert drain().sent == 1
    assert [mail["To"] for mail in smtp_sink.wait_for(1)] == ["fine@example.com"]
    held = {row.recipient: row for row in outbox_rows()}["later-cleaned@example.com"]
    assert held.status == OutboxStatus.FAILED and "suppressed" in held.last_error
    assert drain().sent == 0  # and it stays unsent
