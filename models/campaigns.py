"""Newsletters: a campaign is one issue of a list's newsletter, sent once to each of the
list's confirmed subscribers (its recipients, fanned out when sending starts)."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.subscribers import MailingList


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class RecipientStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Not mailed: the subscription ended, or the address was suppressed, after the fan-out.
    SKIPPED = "skipped"


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        UniqueConstraint("list_id", "slug"),
        # The worker's look for campaigns to send or start; the archive's sent issues.
        Index("ix_campaigns_status_send_at", "status", "send_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("mailing_lists.id", ondelete="CASCADE"))
    # The address in the archive: /newsletters/<list slug>/<slug>.
    slug: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(300))
    # The line inbox views show after the subject; hidden in the mail itself.
    preheader: Mapped[str] = mapped_column(String(300), default="")
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CampaignStatus] = mapped_column(_enum(CampaignStatus), default=CampaignStatus.DRAFT)
    send_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The final tally, written when sending ends (live figures come from the recipients).
    recipients_count: Mapped[int] = mapped_column(default=0)
    sent_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)

    mailing_list: Mapped[MailingList] = relationship()


class CampaignRecipient(Base):
    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id"),
        # The claim: a campaign's queued rows, and those whose worker's lease ran out, in id order.
        Index("ix_campaign_recipients_claim", "campaign_id", "status", "id"),
        Index("ix_campaign_recipients_subscriber_id", "subscriber_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # An erased subscriber's row goes with them.
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[RecipientStatus] = mapped_column(_enum(RecipientStatus), default=RecipientStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    # While sending: the worker's lease; while queued after a failure: not before.
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
