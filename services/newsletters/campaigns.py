"""Campaigns: written and edited as drafts, sent now or at a set time, paused, resumed or
cancelled while sending; every send, pause, resume and cancel is audited."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models import Campaign, CampaignStatus, MailingList, OutboxMessage, OutboxStatus
from models.base import utcnow
from services.core import audit, jobs
from services.core.audit import Actor
from services.core.errors import InvalidInput, NotFound
from services.core.links import mail_domain
from services.core.lookup import get_or_raise
from services.core.transactions import write_transaction
from services.core.validation import clean_text, normalise_email, storable
from services.mail import outbox
from services.newsletters import delivery, mail, recipients, sending
from services.subscriptions.subscriptions import unsubscribe_url

NO_SUCH_CAMPAIGN = "There is no such newsletter."
BODY_MAX_LENGTH = 200_000
SLUG_MAX_LENGTH = 80
EDITABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED})
UNFINISHED = frozenset({CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED})
TEST_CATEGORY = "campaign_test"


@dataclass(frozen=True)
class CampaignFields:
    """What staff type into the newsletter form (or the command line), before cleaning."""

    list_id: int | None
    subject: str | None
    preheader: str | None = ""
    body_markdown: str | None = ""


def _cleaned(session: Session, fields: CampaignFields) -> dict:
    if fields.list_id is None or session.get(MailingList, fields.list_id) is None:
        raise InvalidInput("list_id", "Choose the list this newsletter goes to.")
    subject = clean_text(fields.subject, field="subject", label="Subject", max_length=300)
    if not subject:
        raise InvalidInput("subject", "Enter a subject.")
    return {"list_id": fields.list_id, "subject": subject,
            "preheader": clean_text(fields.preheader, field="preheader", label="Preheader", max_length=300),
            "body_markdown": clean_text(fields.body_markdown, field="body_markdown", label="Body",
                                        max_length=BODY_MAX_LENGTH, multiline=True)}


def slug_for(subject: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", subject).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:SLUG_MAX_LENGTH].strip("-")
    return slug or "issue"


def _unique_slug(session: Session, list_id: int, subject: str, campaign_id: int | None = None) -> str:
    """The subject's slug, numbered if another issue of the list has it."""
    base = slug_for(subject)
    taken = set(session.scalars(select(Campaign.slug).where(
        Campaign.list_id == list_id, Campaign.slug.like(f"{base}%"), Campaign.id != (campaign_id or 0))))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def create(actor: Actor, fields: CampaignFields) -> Campaign:
    with write_transaction() as session:
        values = _cleaned(session, fields)
        campaign = Campaign(**values, slug=_unique_slug(session, values["list_id"], values["subject"]),
                            status=CampaignStatus.DRAFT)
        session.add(campaign)
        session.flush()
        audit.record(session, actor, "campaign.create", target=f"campaign:{campaign.id}",
                     details={"subject": campaign.subject})
    return campaign


def update(actor: Actor, campaign_id: int, fields: CampaignFields) -> Campaign:
    """Edit a draft (or a scheduled campaign, not yet started); a sent one is as it was sent."""
    with write_transaction() as session:
        campaign = _get(session, campaign_id, for_update=True)
        if campaign.status not in EDITABLE:
            raise InvalidInput("campaign", f"This newsletter is {campaign.status.value}; only a draft can be edited.")
        values = _cleaned(session, fields)
        if (values["subject"], values["list_id"]) != (campaign.subject, campaign.list_id):
            campaign.slug = _unique_slug(session, values["list_id"], values["subject"], campaign.id)
        for name, value in values.items():
            setattr(campaign, name, value)
        campaign.updated_at = utcnow()
        audit.record(session, actor, "campaign.edit", target=f"campaign:{campaign.id}")
    return campaign


def _get(session: Session, campaign_id: int, *, for_update: bool = False) -> Campaign:
    return get_or_raise(session, Campaign, campaign_id, NO_SUCH_CAMPAIGN, for_update=for_update)


def get(session: Session, campaign_id: int) -> Campaign:
    return _get(session, campaign_id)


def newest_first(session: Session, limit: int = 200) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit)))


def send(actor: Actor, campaign_id: int, at: datetime | None = None) -> Campaign:
    """Send a draft now, or at `at` (aware; the worker starts it then): its recipients are
    the list's confirmed subscribers when sending starts."""
    now = utcnow()
    if at is not None and at.tzinfo is None:
        raise InvalidInput("send_at", "Give the time with its time zone (e.g. 2026-12-24T08:00:00+00:00).")
    at = max(at.astimezone(UTC), now) if at is not None else now
    with write_transaction() as session:
        campaign = _get(session, campaign_id, for_update=True)
        if campaign.status not in EDITABLE:
            raise InvalidInput("campaign", f"This newsletter is {campaign.status.value}; it cannot be sent again.")
        if not campaign.body_markdown.strip():
            raise InvalidInput("body_markdown", "Write the newsletter before sending it.")
        campaign.status, campaign.send_at = CampaignStatus.SCHEDULED, at
        jobs.enqueue(session, delivery.START_JOB, {"campaign_id": campaign.id}, run_after=at)
        audit.record(session, actor, "campaign.send", target=f"campaign:{campaign.id}",
                     details={"send_at": at.isoformat(), "list": campaign.mailing_list.slug})
    return campaign


# The changes staff may make while a campaign is under way: from which states, to which.
_CHANGES = {
    "pause": ({CampaignStatus.SENDING}, CampaignStatus.PAUSED),
    "resume": ({CampaignStatus.PAUSED}, CampaignStatus.SENDING),
    "cancel": (UNFINISHED, CampaignStatus.CANCELLED),
}


def change(actor: Actor, campaign_id: int, action: str) -> Campaign:
    """Pause, resume or cancel; a cancelled campaign sends nothing more (the mails in
    flight at that moment still arrive)."""
    allowed, status = _CHANGES[action]
    with write_transaction() as session:
        campaign = _get(session, campaign_id, for_update=True)
        if campaign.status not in allowed:
            raise InvalidInput("campaign", f"This newsletter is {campaign.status.value}; it cannot be {action}d now.")
        campaign.status = status
        if status == CampaignStatus.CANCELLED:
            campaign.finished_at = utcnow()
            for name, value in recipients.tally_values(recipients.counts(session, campaign.id)).items():
                setattr(campaign, name, value)
        audit.record(session, actor, f"campaign.{action}", target=f"campaign:{campaign.id}")
    return campaign


def progress(session: Session, campaign: Campaign) -> dict[str, int]:
    """Recipients, sent, failed, skipped and still waiting: live while the campaign is under way."""
    if campaign.status in (CampaignStatus.SENDING, CampaignStatus.PAUSED):
        tally = recipients.counts(session, campaign.id)
        figures = recipients.tally_values(tally)
    else:
        figures = {"recipients_count": campaign.recipients_count, "sent_count": campaign.sent_count,
                   "failed_count": campaign.failed_count, "skipped_count": campaign.skipped_count}
    figures["waiting_count"] = max(0, figures["recipients_count"] - figures["sent_count"]
                                   - figures["failed_count"] - figures["skipped_count"])
    return figures


def send_test(actor: Actor, campaign_id: int, email: str, name: str = "") -> None:
    """Queue one copy, marked as a test, to a staff member through the outbox. Its
    unsubscribe link names no subscriber, so it unsubscribes nobody."""
    address = normalise_email(email)
    with write_transaction() as session:
        campaign = _get(session, campaign_id)
        built = mail.build(campaign, sending.sender_address(), subject_prefix="[Test] ")
        link = unsubscribe_url(0, "", campaign.list_id)
        text, html = built.bodies(link)
        session.execute(insert(OutboxMessage.__table__), dict(
            message_id=outbox.new_message_id(), recipient=address, recipient_name=name, category=TEST_CATEGORY,
            subject=f"[Test] {campaign.subject}", text_body=text, html_body=html,
            headers={"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                     "List-Id": f"<{campaign.mailing_list.slug}.{mail_domain()}>"},
            attachments=[], status=OutboxStatus.QUEUED))
        audit.record(session, actor, "campaign.test", target=f"campaign:{campaign.id}", details={"to": address})


ARCHIVE_LENGTH = 500


def public_list(session: Session, list_slug: str) -> MailingList:
    """A public list by its slug; NotFound for a private or unknown one (it has no archive)."""
    found = session.scalar(select(MailingList).where(MailingList.slug == list_slug, MailingList.is_public)) \
        if storable(list_slug) else None
    if found is None:
        raise NotFound("There is no such newsletter archive.")
    return found


def sent_issues(session: Session, mailing_list: MailingList) -> list[Campaign]:
    """The list's sent issues, newest first."""
    return list(session.scalars(select(Campaign).where(
        Campaign.list_id == mailing_list.id, Campaign.status == CampaignStatus.SENT,
    ).order_by(Campaign.finished_at.desc(), Campaign.id.desc()).limit(ARCHIVE_LENGTH)))


def sent_issue(session: Session, mailing_list: MailingList, campaign_slug: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(
        Campaign.list_id == mailing_list.id, Campaign.slug == campaign_slug,
        Campaign.status == CampaignStatus.SENT)) if storable(campaign_slug) else None
    if campaign is None:
        raise NotFound("There is no such issue.")
    return campaign
