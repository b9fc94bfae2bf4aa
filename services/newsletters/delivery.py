"""The worker's side of newsletters: a job starts a campaign when its time comes (the
fan-out to its recipients), and every worker sends every sending campaign, sharing each
with whichever other workers run."""

import logging
import threading
import time

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Campaign, CampaignStatus
from models.base import utcnow
from services.core.jobs import ClaimedJob
from services.core.transactions import read_session, write_transaction
from services.newsletters import mail, recipients, sending

log = logging.getLogger(__name__)
START_JOB = "campaign.start"
# How often a sending worker asks whether staff paused or cancelled the campaign.
STATUS_LOOK_SECONDS = 0.25


def start(job: ClaimedJob) -> dict:
    """Start the campaign if it is still scheduled and due: its recipients are the list's
    confirmed subscribers at this moment. Running again after a crash changes nothing."""
    with write_transaction() as session:
        campaign = session.get(Campaign, job.payload["campaign_id"], with_for_update=True)
        if campaign is None or campaign.status != CampaignStatus.SCHEDULED or (
                campaign.send_at is not None and campaign.send_at > utcnow()):
            return {"started": False}
        count = recipients.fan_out(session, campaign.id, campaign.list_id)
        campaign.status, campaign.started_at, campaign.recipients_count = CampaignStatus.SENDING, utcnow(), count
        return {"started": True, "recipients": count}


def abandon(session: Session, payload: dict, message: str) -> None:
    """The start job was cancelled or given up: the campaign is a draft again."""
    session.execute(update(Campaign).where(Campaign.id == payload["campaign_id"],
                                           Campaign.status == CampaignStatus.SCHEDULED)
                    .values(status=CampaignStatus.DRAFT, send_at=None))


def _sending_ids() -> list[int]:
    ids = list(read_session().scalars(select(Campaign.id).where(Campaign.status == CampaignStatus.SENDING)
                                  .order_by(Campaign.id)))
    read_session().rollback()
    return ids


def _still_sending(campaign_id: int) -> bool:
    status = read_session().scalar(select(Campaign.status).where(Campaign.id == campaign_id))
    read_session().rollback()
    return status == CampaignStatus.SENDING


def send_campaign(app: Flask, campaign_id: int, stop: threading.Event) -> int:
    """Send the campaign's recipients until none is left to claim, staff pause or cancel
    it, or the worker stops; how many mails went."""
    campaign = read_session().get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.SENDING:
        read_session().rollback()
        return 0
    built, list_id = mail.build(campaign, sending.sender_address()), campaign.list_id
    read_session().rollback()
    sender = sending.CampaignSender(app, built, list_id, stop)
    unsent: list[int] = []
    next_look = 0.0
    try:
        while not (stop.is_set() or sender.halt.is_set()):
            with write_transaction() as session:
                batch, skipped = recipients.claim(session, campaign_id, list_id, app.config["CAMPAIGN_BATCH_SIZE"])
            if not batch:
                if skipped:
                    continue
                break
            sender.recorder.hold([claimed.id for claimed in batch])
            for start in range(0, len(batch), sender.group_size):
                if time.monotonic() >= next_look:
                    if not _still_sending(campaign_id):
                        sender.halt.set()
                    next_look = time.monotonic() + STATUS_LOOK_SECONDS
                if sender.halt.is_set() or stop.is_set():
                    unsent.extend(left.id for left in batch[start:])
                    break
                sender.hand_out(batch[start:start + sender.group_size])  # waits while the connections are busy
    finally:
        unsent.extend(sender.close())
        with write_transaction() as session:
            recipients.release(session, unsent)
            recipients.finish_if_done(session, campaign_id)
    return sender.sent


def send_due(app: Flask, stop: threading.Event) -> int:
    """Every sending campaign, one after another; how many mails went."""
    return sum(send_campaign(app, campaign_id, stop) for campaign_id in _sending_ids() if not stop.is_set())


def run_forever(poll_seconds: float, stop: threading.Event) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's documented accessor, untyped
    while not stop.is_set():
        try:
            sent = send_due(app, stop)
        except Exception:  # keep the worker alive through a database or relay outage
            log.exception("campaign delivery pass failed")
            read_session().rollback()
            sent = 0
        if not sent:
            stop.wait(poll_seconds)
