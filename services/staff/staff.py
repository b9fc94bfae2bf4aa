"""Staff accounts: creation, sign-in with lockout, passwords, and role changes (owners only)."""

from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import StaffRole, StaffUser
from models.base import utcnow
from services.core import audit
from services.core.audit import Actor
from services.core.errors import Forbidden, InvalidInput, NotFound, SignInFailed
from services.core.lookup import get_or_raise
from services.core.transactions import read_session, write_transaction
from services.core.validation import normalise_email
from services.staff import staff_sessions

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024


def password_hasher() -> PasswordHasher:
    """Argon2id (the library's default type) with the configured cost."""
    config = current_app.config
    return _hasher(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST_KIB"],
                   config["ARGON2_PARALLELISM"])


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("no account has this password")


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str | None, field: str = "password") -> str:
    password = password or ""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(field, f"Use at least {PASSWORD_MIN_LENGTH} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(field, f"Use at most {PASSWORD_MAX_LENGTH} characters.")
    return password


def change_password(user_id: int, current_password: str | None, new_password: str | None,
                    ip: str | None) -> StaffUser:
    """A signed-in staff member replaces their own password, proving the current one
    (a wrong one counts towards the lockout, as at sign-in)."""
    hasher = password_hasher()
    new_password = check_password_rules(new_password, field="new_password")
    user = get_or_raise(read_session(), StaffUser, user_id, "No such staff account.")
    # Argon2 is slow on purpose: verify and hash before the write lock is taken.
    if not _verify(hasher, user.password_hash, current_password or ""):
        with write_transaction() as session:
            _count_failure(session, get_or_raise(session, StaffUser, user_id, "No such staff account.",
                                                 for_update=True), ip)
        raise InvalidInput("current_password", "That is not your current password.")
    if _verify(hasher, user.password_hash, new_password):
        raise InvalidInput("new_password", "Choose a password different from the current one.")
    return _store_password(_actor(user, ip), user_id, user.password_hash, hasher.hash(new_password),
                           "staff.password_changed")


def reset_password(actor: Actor, raw_email: str | None, new_password: str | None) -> StaffUser:
    """Set someone's password (from the command line, for a forgotten one); it also
    lifts a lockout. Their browsers are signed out."""
    password_hash = password_hasher().hash(check_password_rules(new_password))
    email = (raw_email or "").strip().lower()
    with write_transaction() as session:
        require_owner(session, actor)
        user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
        if user is None:
            raise NotFound("No staff account has this address.")
        user_id, old_hash = user.id, user.password_hash
    return _store_password(actor, user_id, old_hash, password_hash, "staff.password_reset")


def _store_password(actor: Actor, user_id: int, old_hash: str, new_hash: str, action: str) -> StaffUser:
    with write_transaction() as session:
        user = session.get(StaffUser, user_id, with_for_update=True)
        if user is None or user.password_hash != old_hash:
            raise InvalidInput("current_password", "The password was changed meanwhile; try again.")
        user.password_hash = new_hash
        staff_sessions.end_all(session, user.id)  # every browser signed in before is signed out
        user.failed_logins = 0
        user.locked_until = None
        audit.record(session, actor, action, target=f"staff:{user.id}")
    return user


def create_staff(actor: Actor, raw_email: str | None, password: str | None,
                 role: StaffRole = StaffRole.EDITOR) -> StaffUser:
    email = normalise_email(raw_email)
    # Hash before the write lock is taken: Argon2 is slow on purpose.
    password_hash = password_hasher().hash(check_password_rules(password))
    with write_transaction() as session:
        require_owner(session, actor)
        user = StaffUser(email=email, password_hash=password_hash, role=StaffRole(role))
        session.add(user)
        try:
            session.flush()
        except IntegrityError:
            raise InvalidInput("email", "A staff account with this address already exists.") from None
        audit.record(session, actor, "staff.create", target=f"staff:{user.id}",
                     details={"email": email, "role": user.role.value})
    return user


def authenticate(raw_email: str | None, password: str | None, ip: str | None) -> StaffUser:
    """The account these credentials open, or SignInFailed — the same error whether the
    address is unknown, the password wrong, or the account locked or inactive, and
    after about the same time, so that nobody learns which addresses have accounts."""
    hasher = password_hasher()
    email = (raw_email or "").strip().lower()
    password = password or ""
    with write_transaction() as session:
        user = session.scalar(
            select(StaffUser).where(func.lower(StaffUser.email) == email).with_for_update()
        )
        now = utcnow()
        signed_in: StaffUser | None = None
        if user is None or not user.is_active or (user.locked_until and user.locked_until > now):
            _verify(hasher, _dummy_hash(hasher), password)
        elif _verify(hasher, user.password_hash, password):
            signed_in = user
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            if hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hasher.hash(password)
            audit.record(session, _actor(user, ip), "staff.sign_in")
        else:
            _count_failure(session, user, ip)
    # Raised after the commit, so the failure count is kept.
    if signed_in is None:
        raise SignInFailed("That email and password do not open an account, or the account "
                           "is locked after too many attempts. Try again later.")
    return signed_in


def _count_failure(session: Session, user: StaffUser, ip: str | None) -> None:
    """A wrong password (the caller holds the account's row lock): enough of them lock it."""
    config = current_app.config
    user.failed_logins += 1
    if user.failed_logins >= config["STAFF_MAX_FAILED_LOGINS"]:
        user.failed_logins = 0
        user.locked_until = utcnow() + timedelta(seconds=config["STAFF_LOCKOUT_SECONDS"])
        audit.record(session, _actor(user, ip), "staff.locked", details={"until": user.locked_until.isoformat()})


def _actor(user: StaffUser, ip: str | None) -> Actor:
    return Actor(user.email, staff_user_id=user.id, ip=ip)


def require_owner(session: Session, actor: Actor, refusal: str = "Only owners manage staff accounts.") -> None:
    """For what only owners may do; the command line (no staff id) stands for the machine's operator."""
    if actor.staff_user_id is None:
        return
    role = session.scalar(select(StaffUser.role).where(StaffUser.id == actor.staff_user_id))
    if role != StaffRole.OWNER:
        raise Forbidden(refusal)


def _active_owners(session: Session) -> int:
    return session.scalars(select(func.count()).select_from(StaffUser).where(
        StaffUser.role == StaffRole.OWNER, StaffUser.is_active)).one()


def _change_account(actor: Actor, user_id: int, *, role: StaffRole | None = None,
                    active: bool | None = None) -> StaffUser:
    with write_transaction() as session:
        require_owner(session, actor)
        # Lock every owner row so two owners cannot demote each other at once.
        session.scalars(select(StaffUser.id).where(StaffUser.role == StaffRole.OWNER).with_for_update()).all()
        user = get_or_raise(session, StaffUser, user_id, "No such staff account.", for_update=True)
        before = {"role": user.role.value, "active": user.is_active}
        if role is not None:
            user.role = StaffRole(role)
        if active is not None:
            user.is_active = active
        session.flush()
        if _active_owners(session) == 0:
            if user.id == actor.staff_user_id:
                raise InvalidInput("role", "You are the only active owner: make another staff member an "
                                           "owner first, then change your own account. Keep at least one active owner.")
            raise InvalidInput("role", "Keep at least one active owner.")
        after = {"role": user.role.value, "active": user.is_active}
        if after != before:
            # A session holds the rights of its sign-in: it ends with them (and a disabled
            # account, enabled again, must sign in anew).
            staff_sessions.end_all(session, user.id)
        audit.record(session, actor, "staff.change", target=f"staff:{user.id}",
                     details={"before": before, "after": after})
    return user


def change_role(actor: Actor, user_id: int, role: StaffRole) -> StaffUser:
    return _change_account(actor, user_id, role=role)


def set_active(actor: Actor, user_id: int, active: bool) -> StaffUser:
    return _change_account(actor, user_id, active=active)


def staff_accounts(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(func.lower(StaffUser.email))))


def count_staff(session: Session) -> int:
    return session.scalars(select(func.count()).select_from(StaffUser)).one()
