"""Append-only proof of consent: every request, confirmation and withdrawal."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class ConsentAction(enum.StrEnum):
    SUBSCRIBE_REQUESTED = "subscribe_requested"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    JOINED_FROM_PREFERENCES = "joined_from_preferences"
    ERASED = "erased"
    ENROLL_REQUESTED = "enroll_requested"
    ENROLLMENT_CONFIRMED = "enrollment_confirmed"
    ENROLLMENT_CANCELLED = "enrollment_cancelled"
    COURSE_MAIL_STOPPED = "course_mail_stopped"
    # Proof carried over from another service's export (e.g. Mailchimp's OPTIN_TIME).
    IMPORTED_OPTIN = "imported_optin"
    IMPORTED_CONFIRM = "imported_confirm"
    IMPORTED_UNSUBSCRIBE = "imported_unsubscribe"
    # The address was put on the suppression list (a hard bounce, repeated soft bounces, a
    # complaint, staff); `form` says which ("bounce:smtp", "complaint:arf", "admin").
    SUPPRESSED = "suppressed"
    UNSUPPRESSED = "unsuppressed"


IMPORTED_ACTIONS = (ConsentAction.IMPORTED_OPTIN, ConsentAction.IMPORTED_CONFIRM, ConsentAction.IMPORTED_UNSUBSCRIBE)


class ConsentEvent(Base):
    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True
    )
    list_id: Mapped[int | None] = mapped_column(ForeignKey("mailing_lists.id", ondelete="SET NULL"))
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[ConsentAction] = mapped_column(
        Enum(ConsentAction, native_enum=False, length=40,
             values_callable=lambda e: [m.value for m in e])
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Which form the reader used and the version of the wording it showed them.
    form: Mapped[str | None] = mapped_column(String(40))
    wording_version: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    source_url: Mapped[str | None] = mapped_column(String(2000))


# Imported proof is keyed, so importing the same file twice records it once.
Index(
    "uq_consent_events_imported", ConsentEvent.subscriber_id, ConsentEvent.list_id, ConsentEvent.action,
    ConsentEvent.occurred_at, unique=True,
    sqlite_where=text("action IN ('imported_optin', 'imported_confirm', 'imported_unsubscribe')"),
    postgresql_where=text("action IN ('imported_optin', 'imported_confirm', 'imported_unsubscribe')"),
)
