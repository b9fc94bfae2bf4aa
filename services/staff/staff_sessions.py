"""Staff console sessions kept on the server. The browser's signed cookie holds only a
random session id; a session is live while its row (found by the id's hash) exists, is
neither past its lifetime nor idle too long, and its account is active. Signing out,
and disabling an account, changing its role or its password, delete rows: the cookie
then opens nothing, even a copy taken before."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from models import StaffSession, StaffUser
from models.base import utcnow
from models.staff import USER_AGENT_MAX_LENGTH
from services.core.transactions import read_session, rows_changed, write_connection, write_transaction
from services.staff.api_tokens import hash_token

# Only every this many seconds is a session's last use written, so a page view stays a read.
LAST_SEEN_RESOLUTION_SECONDS = 60


def start(user_id: int, ip: str | None, user_agent: str | None) -> str:
    """A new session for a staff member who has just proved who they are; returns its
    id, for the browser's cookie only."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    max_age = timedelta(seconds=current_app.config["STAFF_SESSION_MAX_AGE_SECONDS"])
    with write_transaction() as session:
        session.add(StaffSession(id_hash=hash_token(session_id), staff_user_id=user_id, created_at=now,
                                 last_seen_at=now, expires_at=now + max_age, ip=ip,
                                 user_agent=(user_agent or "")[:USER_AGENT_MAX_LENGTH] or None))
    return session_id


def staff_for(session_id: str | None, user_id: str) -> StaffUser | None:
    """The active account a live session `session_id` of account `user_id` signs in, or None."""
    if not session_id:
        return None
    found = read_session().execute(
        select(StaffSession.id, StaffSession.last_seen_at, StaffSession.expires_at, StaffUser)
        .join(StaffUser, StaffSession.staff_user_id == StaffUser.id)
        .where(StaffSession.id_hash == hash_token(session_id))
    ).first()
    if found is None:
        return None
    row_id, last_seen_at, expires_at, user = found
    now = utcnow()
    if str(user.id) != user_id or not user.is_active or not _live(now, last_seen_at, expires_at):
        return None
    if (now - last_seen_at).total_seconds() >= LAST_SEEN_RESOLUTION_SECONDS:
        with write_connection() as connection:
            connection.execute(update(StaffSession).where(StaffSession.id == row_id).values(last_seen_at=now))
    return user


def _live(now, last_seen_at, expires_at) -> bool:
    idle = timedelta(seconds=current_app.config["STAFF_SESSION_IDLE_SECONDS"])
    return now < expires_at and now < last_seen_at + idle


@dataclass(frozen=True)
class SignedInBrowser:
    signed_in_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None
    this_browser: bool


def signed_in_browsers(user_id: int, session_id: str | None) -> list[SignedInBrowser]:
    """Where an account is signed in, most recently used first; `session_id` is the asking browser's."""
    now = utcnow()
    rows = read_session().scalars(select(StaffSession).where(StaffSession.staff_user_id == user_id)
                              .order_by(StaffSession.last_seen_at.desc(), StaffSession.id.desc()))
    this_hash = hash_token(session_id) if session_id else None
    return [SignedInBrowser(row.created_at, row.last_seen_at, row.ip, row.user_agent, row.id_hash == this_hash)
            for row in rows if _live(now, row.last_seen_at, row.expires_at)]


def end(session_id: str | None) -> None:
    """Signing out: the session ends on the server, whatever copies of its cookie exist."""
    if not session_id:
        return
    with write_connection() as connection:
        connection.execute(delete(StaffSession).where(StaffSession.id_hash == hash_token(session_id)))


def end_all(session: Session, user_id: int) -> None:
    """Every session of an account ends, in the caller's write transaction."""
    session.execute(delete(StaffSession).where(StaffSession.staff_user_id == user_id))


def purge_ended(session: Session) -> int:
    """Delete the sessions past their lifetime or idle too long; returns how many."""
    now = utcnow()
    idle = timedelta(seconds=current_app.config["STAFF_SESSION_IDLE_SECONDS"])
    return rows_changed(session, delete(StaffSession).where(
        or_(StaffSession.expires_at <= now, StaffSession.last_seen_at <= now - idle)))
