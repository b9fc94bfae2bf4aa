"""A campaign's mail refused by a real SMTP server on loopback: a 550 is a hard bounce (the
recipient fails at once and the address is suppressed), a 451 is retried; each mail goes
from its own signed bounce address."""

from sqlalchemy import select

from extensions import db
from models import BounceEvent, BounceKind, CampaignRecipient, RecipientStatus, Subscriber, Suppression
from services.core.audit import CLI
from services.mail import verp
from services.newsletters import campaigns
from services.worker.runner import Worker


def test_a_550_fails_that_reader_at_once_and_suppresses_them(app, newsletter, readers, make_campaign, smtp_sink):
    app.config["BOUNCE_ADDRESS"] = "bounces@bounce.news.example"
    readers(newsletter, 3)
    smtp_sink.refuse["reader1@example.com"] = "550 5.1.1 <reader1@example.com>: User unknown"
    smtp_sink.refuse["reader2@example.com"] = "451 4.3.0 Mailbox temporarily unavailable"
    campaigns.send(CLI, make_campaign(newsletter))
    Worker(app).run_once()
    smtp_sink.wait_for(1)
    db.session.rollback()

    statuses = dict(db.session.execute(select(CampaignRecipient.email, CampaignRecipient.status)).all())
    assert statuses == {"reader0@example.com": RecipientStatus.SENT, "reader1@example.com": RecipientStatus.FAILED,
                        "reader2@example.com": RecipientStatus.QUEUED}
    refused = db.session.scalar(select(CampaignRecipient).where(CampaignRecipient.email == "reader1@example.com"))
    assert refused.attempts == 1 and "550 5.1.1" in refused.last_error
    assert db.session.scalar(select(Suppression.address)) == "reader1@example.com"
    assert db.session.scalar(select(Subscriber.suppressed_at).where(Subscriber.email == "reader1@example.com"))
    kinds = dict(db.session.execute(select(BounceEvent.address, BounceEvent.kind)).all())
    assert kinds == {"reader1@example.com": BounceKind.HARD, "reader2@example.com": BounceKind.SOFT}

    sent_from = smtp_sink.envelopes[0][0]
    recipient_id = db.session.scalar(
        select(CampaignRecipient.id).where(CampaignRecipient.email == "reader0@example.com"))
    assert verp.read(sent_from) == verp.MailRef(verp.CAMPAIGN_RECIPIENT, recipient_id)
