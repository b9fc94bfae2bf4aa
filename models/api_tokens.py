"""Bearer tokens for the staff JSON API: only a hash of each token is stored."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.staff import StaffUser

LABEL_MAX_LENGTH = 100


class ApiTokenScope(enum.StrEnum):
    READ = "read"
    READ_WRITE = "read-write"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the whole token, hex: the token is random, so no salt or slow hash is needed.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, shown in listings so staff can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    # What the token is for, in the owner's words ("nightly CRM sync").
    label: Mapped[str] = mapped_column(String(LABEL_MAX_LENGTH), default="")
    scope: Mapped[ApiTokenScope] = mapped_column(
        Enum(ApiTokenScope, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    staff_user: Mapped[StaffUser] = relationship()
