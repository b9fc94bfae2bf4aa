"""The audit log: one row per staff action, written in the action's transaction."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.staff import AuditEvent
from services.core.pagination import Page, keyset_page

CLI_ACTOR = "cli"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in staff member, or the command line."""

    label: str
    staff_user_id: int | None = None
    ip: str | None = None


CLI = Actor(CLI_ACTOR)


def record(session: Session, actor: Actor, action: str, *, target: str | None = None,
           details: dict | None = None) -> AuditEvent:
    event = AuditEvent(staff_user_id=actor.staff_user_id, actor=actor.label, action=action,
                       target=target, details=details or {}, ip=actor.ip)
    session.add(event)
    return event


def newest_first(session: Session, cursor: str | None = None) -> Page:
    """A page of the audit log, newest first."""
    return keyset_page(session, select(AuditEvent), (AuditEvent.id,), cursor, key_of=lambda e: (e.id,))
