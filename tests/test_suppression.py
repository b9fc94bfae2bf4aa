"""A suppressed address (e.g. Mailchimp's "cleaned") is never mailed."""

from datetime import UTC, datetime

from extensions import db
from models import Subscriber
from services import subscriptions
from tests.conftest import outbox_rows


def test_subscribing_a_suppressed_address_queues_no_mail(newsletter, origin, deliver):
    db.session.add(Subscriber(email="Bounced@example.com", suppressed_at=datetime.now(UTC),
                              suppression_reason="cleaned"))
    db.session.commit()
    subscriptions.subscribe("bounced@EXAMPLE.com", "", origin)  # answers as for anyone else
    subscriptions.subscribe("fine@example.com", "", origin)
    assert [row.recipient for row in outbox_rows()] == ["fine@example.com"]
    assert [mail["To"] for mail in deliver(1)] == ["fine@example.com"]
