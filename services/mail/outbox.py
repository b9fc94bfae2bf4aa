"""The outbox: mail is rendered and queued inside the transaction that caused it."""

import uuid

from sqlalchemy import exists, func, insert, or_, select

from models import OutboxMessage, OutboxStatus, Subscriber
from services.core import publication
from services.core.links import external_url, mail_domain
from services.core.transactions import Executor
from services.mail import rendering, suppression
from services.mail.suppression import listed

# A mail's category, for mail nobody can cause by typing an address (the throttled ones
# are services/mail/opt_in_throttle.py's).
TRANSACTIONAL = "transactional"


# Built once: its cache key is then computed once, not on every mail.
_INSERT_MESSAGE = insert(OutboxMessage.__table__)


def mail_branding(executor: Executor | None = None) -> dict:
    """What every mail's layout shows of the publication: name, site, logo, postal address.
    `executor`: the caller's write, if it is inside one."""
    found = publication.current(executor)
    logo_url = external_url("public.publication_logo", v=found.version) if found.has_logo else None
    return {"publication": found, "site_name": found.name, "logo_url": logo_url}


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@{mail_domain()}>"


def enqueue(
    session: Executor,
    *,
    template: str,
    recipient: str,
    recipient_name: str = "",
    subject: str,
    category: str,
    unsubscribe_url: str,
    context: dict | None = None,
    attachments: list[dict] | None = None,
    suppression_checked: bool = False,
) -> bool:
    """Render `templates/email/<template>.txt|.html` and queue it; return whether it was.

    Every mail carries RFC 8058 one-click unsubscribe headers. Nothing is queued
    for a suppressed address (`suppression_checked`: the caller already knows it is
    not); callers answer the same either way.
    """
    if not suppression_checked and is_suppressed(session, recipient):
        return False
    text_body, html_body = rendering.render_parts(template, {
        **(context or {}), "recipient_name": recipient_name, "unsubscribe_url": unsubscribe_url,
        **mail_branding(session)})
    session.execute(_INSERT_MESSAGE, dict(
        message_id=new_message_id(),
        recipient=recipient,
        recipient_name=recipient_name,
        category=category,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        attachments=attachments or [],
        status=OutboxStatus.QUEUED,
    ))
    return True


def suppressed_address(address):
    """A SQL condition: `address` (a column or a value) is on the suppression list, or
    belongs to a suppressed subscriber. Both sides go through the database's lower(), as
    the unique index on addresses does."""
    return or_(listed(address), exists().where(func.lower(Subscriber.email) == func.lower(address),
                                               Subscriber.suppressed_at.is_not(None)))


def is_suppressed(session: Executor, recipient: str) -> bool:
    return session.scalars(select(suppressed_address(recipient))).one() or \
        bool(suppression.listed_as_erased(session, [recipient]))
