"""Sending a campaign through the worker into a real SMTP sink: who gets it, exactly once."""

from sqlalchemy import select

from extensions import db
from models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from services.core.audit import CLI
from services.newsletters import campaigns
from services.worker.runner import Worker


def send_now(app, campaign_id: int):
    campaigns.send(CLI, campaign_id)
    return Worker(app).run_once()


def test_a_campaign_reaches_each_confirmed_reader_once(app, newsletter, readers, make_campaign, smtp_sink):
    readers(newsletter, 30)
    campaign_id = make_campaign(newsletter)
    result = send_now(app, campaign_id)
    assert result.newsletter_mails_sent == 30
    mails = smtp_sink.wait_for(30)
    assert sorted(mail["To"].addresses[0].addr_spec for mail in mails) == sorted(
        f"reader{n}@example.com" for n in range(30))
    db.session.rollback()
    campaign = db.session.get(Campaign, campaign_id)
    assert (campaign.status, campaign.recipients_count, campaign.sent_count) == (CampaignStatus.SENT, 30, 30)
    assert set(db.session.scalars(select(CampaignRecipient.status))) == {RecipientStatus.SENT}


