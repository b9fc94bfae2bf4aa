"""The suppression list (addresses never mailed again) and each address's bounce history."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class SuppressionReason(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCES = "soft_bounces"  # too many temporary failures in the window
    COMPLAINT = "complaint"
    STAFF = "staff"
    IMPORTED_CLEANED = "imported_cleaned"  # Mailchimp's "cleaned"


class Suppression(Base):
    """One row per address, kept by address rather than by subscriber: an address with no
    subscriber row (an imported cleaned row, a campaign recipient since erased, a staff
    entry made ahead) must be suppressible too."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-cased, so that it meets lower(email) and lower(recipient) as the unique index does.
    address: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[SuppressionReason] = mapped_column(_enum(SuppressionReason))
    # The raw reply or diagnostic that caused it, or the staff member's note.
    detail: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The staff member, or the source (smtp, dsn, arf, mailgun, sendgrid, import).
    created_by: Mapped[str] = mapped_column(String(200), default="")


class BounceKind(enum.StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"


class BounceEvent(Base):
    __tablename__ = "bounce_events"
    __table_args__ = (
        Index("ix_bounce_events_address_occurred_at", "address", "occurred_at"),  # soft bounces in the window
        Index("ix_bounce_events_occurred_at", "occurred_at"),  # the dashboard's last 30 days
        Index("ix_bounce_events_subscriber_id", "subscriber_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320))  # lower-cased
    # The history goes with an erased subscriber.
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    kind: Mapped[BounceKind] = mapped_column(_enum(BounceKind))
    source: Mapped[str] = mapped_column(String(20))  # smtp, dsn, arf, mailgun, sendgrid
    reason: Mapped[str] = mapped_column(String(1000), default="")
    # The Message-ID of the mail that bounced, when known.
    message_id: Mapped[str | None] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
