"""Subscribers, mailing lists and the subscriptions between them."""

import enum
from datetime import datetime

from sqlalchemy import DDL, JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint, event, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, link_key_column, utcnow


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
    # Unsubscribe and preferences links carry it.
    link_key: Mapped[str] = link_key_column()

    subscriptions: Mapped[list["Subscription"]] = relationship(back_populates="subscriber")


Index("uq_subscribers_email_lower", func.lower(Subscriber.email), unique=True)
# The staff console pages subscribers newest first by (created_at, id). Name and address
# ride along so that SQLite can search for a common name part by scanning this index in
# page order, stopping at a page of matches (a rare one: models/name_search.py), and read
# the table only for the rows it shows.
Index("ix_subscribers_page_order", Subscriber.created_at, Subscriber.id, Subscriber.full_name, Subscriber.email)
# PostgreSQL: address prefixes (LIKE 'p%') whatever the database's collation; names
# anywhere through trigrams (pg_trgm).
Index("ix_subscribers_email_pattern", func.lower(Subscriber.email).label("email_lower"),
      postgresql_ops={"email_lower": "text_pattern_ops"}).ddl_if(dialect="postgresql")
Index("ix_subscribers_full_name_trgm", func.lower(Subscriber.full_name).label("full_name_lower"),
      postgresql_using="gin", postgresql_ops={"full_name_lower": "gin_trgm_ops"}).ddl_if(dialect="postgresql")
event.listen(Subscriber.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))


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
    # The list's former Mailchimp audience: the `u` (account) and `id` (audience) of a
    # Mailchimp snippet's action URL, so a snippet works here with only its host changed.
    mailchimp_account_id: Mapped[str | None] = mapped_column(String(40))
    mailchimp_audience_id: Mapped[str | None] = mapped_column(String(40))
    # The language its mail is in for readers whose own is not known (imports, the console).
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")


# One list per Mailchimp audience (NULLs do not clash).
Index("uq_mailing_lists_mailchimp_audience_id", MailingList.mailchimp_audience_id, unique=True)


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "list_id"),
        Index("ix_subscriptions_list_status", "list_id", "status"),
        Index("ix_subscriptions_created_at", "created_at"),  # the dashboard's sign-ups per day
        Index("ix_subscriptions_import_job_id", "import_job_id"),
        # The staff filter by source (and status): the matching subscribers without a scan.
        Index("ix_subscriptions_source_status", "source_url", "status", "subscriber_id"),
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
    # Also the article's title, under "title" (services/core/origins.py SOURCE_TITLE_KEY).
    # None is SQL NULL, not JSON null: nothing was sent beside the URL.
    utm: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # The import job that created this subscription: staff may ask its pending people to opt in.
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id", ondelete="SET NULL"))
    # Confirmation links carry it.
    link_key: Mapped[str] = link_key_column()
    # The language the reader signed up in: their mail is in it (NULL: the list's language).
    language: Mapped[str | None] = mapped_column(String(8))

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    mailing_list: Mapped[MailingList] = relationship()
