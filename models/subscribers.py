"""Subscribers, mailing lists and the subscriptions between them."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow


class SubscriptionStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # email-validator's normalised form; unique case-insensitively (index above).
    email: Mapped[str] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A suppressed address is never mailed again (e.g. "cleaned": it bounced elsewhere).
    suppressed_at: Mapped[datetime | None]
    suppression_reason: Mapped[str | None] = mapped_column(String(40))

    subscriptions: Mapped[list["Subscription"]] = relationship(back_populates="subscriber")


Index("uq_subscribers_email_lower", func.lower(Subscriber.email), unique=True)
# The staff console pages subscribers newest first by (created_at, id).
Index("ix_subscribers_created_at_id", Subscriber.created_at, Subscriber.id)


class MailingList(Base):
    __tablename__ = "mailing_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_public: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    # Mailed once to each subscriber who confirms; no mail when empty.
    welcome_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "list_id"),
        Index("ix_subscriptions_list_status", "list_id", "status"),
        Index("ix_subscriptions_created_at", "created_at"),  # the dashboard's sign-ups per day
        Index("ix_subscriptions_import_job_id", "import_job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    list_id: Mapped[int] = mapped_column(ForeignKey("mailing_lists.id", ondelete="CASCADE"))
    status: Mapped[SubscriptionStatus] = mapped_column(
        Enum(SubscriptionStatus, native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]),
        default=SubscriptionStatus.PENDING,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # When the list's welcome mail was queued; it is sent once per subscription.
    welcomed_at: Mapped[datetime | None]
    source_url: Mapped[str | None] = mapped_column(String(2000))
    referrer: Mapped[str | None] = mapped_column(String(2000))
    # Campaign parameters (utm_source, utm_medium, ...) of the sign-up; source_url is kept without them.
    utm: Mapped[dict | None] = mapped_column(JSON)
    # The import job that created this subscription: staff may ask its pending people to opt in.
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id", ondelete="SET NULL"))

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    mailing_list: Mapped[MailingList] = relationship()
