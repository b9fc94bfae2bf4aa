"""A suppressed address (e.g. Mailchimp's "cleaned") is never mailed."""

from datetime import UTC, datetime

from sqlalchemy import update

from extensions import db
from models import OutboxStatus, Subscriber
from services.mail.outbox_worker import drain
from services.subscriptions import subscriptions
from tests.support import outbox_rows


def test_subscribing_a_suppressed_address_queues_no_mail(newsletter, origin, deliver):
    db.session.add(Subscriber(email="Bounced@example.com", suppressed_at=datetime.now(UTC),
                              suppression_reason="cleaned"))
    db.session.commit()
    subscriptions.subscribe("bounced@EXAMPLE.com", "", origin)  # answers as for anyone else
    subscriptions.subscribe("fine@example.com", "", origin)
    assert [row.recipient for row in outbox_rows()] == ["fine@example.com"]
    assert [mail["To"] for mail in deliver(1)] == ["fine@example.com"]


def test_mail_queued_before_the_address_was_suppressed_is_held_back(app, newsletter, origin, smtp_sink):
    app.config["OUTBOX_BATCH_SIZE"] = 1  # whole batches held back must not end the pass
    for email in ("later-cleaned@example.com", "Also-Cleaned@example.com", "fine@example.com"):
        subscriptions.subscribe(email, "", origin)
    db.session.execute(update(Subscriber).where(Subscriber.email != "fine@example.com")
                       .values(suppressed_at=datetime.now(UTC), suppression_reason="cleaned"))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert "sent 1," in result.output and "held back (suppressed) 2" in result.output
    assert [mail["To"] for mail in smtp_sink.wait_for(1)] == ["fine@example.com"]
    held = [row for row in outbox_rows() if row.recipient != "fine@example.com"]
    assert [(row.status, "suppressed" in row.last_error) for row in held] == [(OutboxStatus.FAILED, True)] * 2
    assert drain().sent == 0  # and they stay unsent
