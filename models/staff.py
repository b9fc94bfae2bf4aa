"""Staff accounts and the audit trail of what they did."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

USER_AGENT_MAX_LENGTH = 200


class StaffRole(enum.StrEnum):
    OWNER = "owner"    # manages staff accounts, and everything an editor does
    EDITOR = "editor"


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(
        Enum(StaffRole, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=StaffRole.EDITOR,
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # What Flask-Login asks of a user object; is_active is the column above.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


Index("uq_staff_users_email_lower", func.lower(StaffUser.email), unique=True)


class StaffSession(Base):
    """A browser signed in to the console. Its cookie holds a random id and this row only
    the id's hash, so the table opens no session; deleting the row ends the session."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the random id, hex: the id is random, so no salt or slow hash is needed.
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Written at most once a minute, so a page view stays a read.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_MAX_LENGTH))


class AuditEvent(Base):
    """Who exported, imported, erased or changed what; never updated or deleted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # Kept even if the account is removed; "cli" for command-line actions.
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(80))
    target: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
