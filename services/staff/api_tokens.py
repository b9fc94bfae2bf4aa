"""Staff API tokens: made for a staff member, shown once, stored as a SHA-256 hash."""

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from models import ApiToken, ApiTokenScope, StaffUser
from models.api_tokens import LABEL_MAX_LENGTH
from models.base import utcnow
from services.core import audit
from services.core.audit import Actor
from services.core.errors import DomainError, InvalidInput, NotFound
from services.core.lookup import get_or_raise
from services.core.transactions import read_session, write_transaction
from services.core.validation import clean_text

TOKEN_PREFIX = "roster_"  # noqa: S105  (a marker, not a secret)
# Only every this many seconds is a token's last use written, so reads stay reads.
LAST_USED_RESOLUTION_SECONDS = 60


class TokenRejected(DomainError):
    """No token, an unknown or revoked one, or one whose owner may no longer sign in."""


class ScopeTooNarrow(DomainError):
    """A valid token whose scope does not allow the request."""


@dataclass(frozen=True)
class IssuedToken:
    id: int
    token: str  # the only time the plain token exists outside the caller
    scope: ApiTokenScope
    owner_email: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scope(raw: str) -> ApiTokenScope:
    try:
        return ApiTokenScope(raw)
    except ValueError:
        raise InvalidInput("scope", "Scope must be read or read-write.") from None


def create(staff_email: str, scope: ApiTokenScope, actor: Actor, label: str | None = "") -> IssuedToken:
    label = clean_text(label, field="label", label="Label", max_length=LABEL_MAX_LENGTH)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction() as session:
        owner = session.scalar(
            select(StaffUser).where(func.lower(StaffUser.email) == staff_email.strip().lower())
        )
        if owner is None or not owner.is_active:
            raise NotFound(f"No active staff account for {staff_email}.")
        row = ApiToken(staff_user_id=owner.id, token_hash=hash_token(token),
                       prefix=token[:len(TOKEN_PREFIX) + 4], scope=scope, label=label)
        session.add(row)
        session.flush()
        audit.record(session, actor, "api_token.create", target=f"api_token:{row.id}",
                     details={"owner": owner.email, "scope": scope.value, "label": label})
        return IssuedToken(row.id, token, scope, owner.email)


def revoke(token_id: int, actor: Actor) -> None:
    """Revoke a token; revoking it again changes nothing."""
    with write_transaction() as session:
        row = get_or_raise(session, ApiToken, token_id, f"No API token {token_id}.", for_update=True)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(session, actor, "api_token.revoke", target=f"api_token:{row.id}")


def list_tokens() -> list[ApiToken]:
    return list(read_session().scalars(
        select(ApiToken).options(joinedload(ApiToken.staff_user)).order_by(ApiToken.id)))


def authenticate(token: str | None, *, write: bool, ip: str | None = None) -> Actor:
    """The staff member a bearer token acts for, or TokenRejected / ScopeTooNarrow."""
    if not token or not token.startswith(TOKEN_PREFIX):
        raise TokenRejected("A valid API token is required.")
    row = read_session().scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or not row.staff_user.is_active:
        raise TokenRejected("This API token is not valid or has been revoked.")
    if write and row.scope != ApiTokenScope.READ_WRITE:
        raise ScopeTooNarrow("This API token may only read.")
    actor = Actor(f"{row.staff_user.email} (api token {row.id})", staff_user_id=row.staff_user_id, ip=ip)
    _note_use(row.id, row.last_used_at)
    return actor


def _note_use(token_id: int, last_used_at) -> None:
    now = utcnow()
    if last_used_at is not None and (now - last_used_at).total_seconds() < LAST_USED_RESOLUTION_SECONDS:
        return
    with write_transaction() as session:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
