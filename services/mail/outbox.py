"""The outbox: mail is rendered and queued inside the transaction that caused it."""

import uuid
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Integer, bindparam, column, exists, func, insert, or_, select, text

from models import OutboxMessage, OutboxStatus, Subscriber
from models.base import UTCDateTime, utcnow
from services.core import publication
from services.core.links import external_url, mail_domain
from services.core.transactions import Executor
from services.mail.suppression import listed

# Mails anyone can cause by typing someone's address, one category per purpose: the
# newsletter's confirmation, the enrolment's, and the privacy link. Each purpose has its
# own window, so that one form asking for two things (or a reader asking for their data
# just after subscribing) gets every mail; one daily cap per address spans them all.
OPT_IN = "opt_in"
COURSE_OPT_IN = "course_opt_in"
PRIVACY_LINK = "privacy_link"
TRANSACTIONAL = "transactional"


# Built once: its cache key is then computed once, not on every mail.
_INSERT_MESSAGE = insert(OutboxMessage.__table__)


def _render(name: str, context: dict) -> str:
    """Render straight from the Jinja environment: mail needs none of the page
    context processors (request, session, CSRF) that render_template runs."""
    return current_app.jinja_env.get_template(name).render(context)


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
    context = {**(context or {}), "recipient_name": recipient_name,
               "unsubscribe_url": unsubscribe_url, **mail_branding(session)}
    session.execute(_INSERT_MESSAGE, dict(
        message_id=new_message_id(),
        recipient=recipient,
        recipient_name=recipient_name,
        category=category,
        subject=subject,
        text_body=_render(f"email/{template}.txt", context),
        html_body=_render(f"email/{template}.html", context),
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        attachments=attachments or [],
        status=OutboxStatus.QUEUED,
    ))
    return True


# The throttle's reading as SQL, so that a sign-up can take it in the RETURNING of its
# subscription upsert, one round trip fewer; opt_in_mail_allowed() asks it on its own.
# The day's count spans the three purposes above, the latest mail is the purpose's own.
# Addresses differing only in case are one mailbox to the throttle: both sides go
# through the database's lower(), as the unique index on subscribers' addresses does.
OPT_IN_MAILS_IN_A_DAY_SQL = ("(SELECT count(*) FROM outbox_messages WHERE lower(recipient) = lower(:recipient)"
                             " AND category IN ('opt_in', 'course_opt_in', 'privacy_link') AND created_at > :since)")
LATEST_OPT_IN_MAIL_SQL = ("(SELECT max(created_at) FROM outbox_messages WHERE lower(recipient) = lower(:recipient)"
                          " AND category = :category AND created_at > :since)")
_RECENT_OPT_IN_MAIL = text(
    f"SELECT {OPT_IN_MAILS_IN_A_DAY_SQL} AS mails_in_a_day, {LATEST_OPT_IN_MAIL_SQL} AS latest_mail"
).bindparams(bindparam("since", type_=UTCDateTime())).columns(
    column("mails_in_a_day", Integer), column("latest_mail", UTCDateTime))  # in order: the result layout is then cached


class RecentOptInMail(NamedTuple):
    """The opt-in mail queued to one address in the day before `as_of`: how many of every
    purpose, and the latest of one purpose."""

    sent: int
    latest: datetime | None
    as_of: datetime


def recent_opt_in_mail_params(recipient: str, as_of: datetime, category: str = OPT_IN) -> dict:
    return {"recipient": recipient, "category": category, "since": as_of - timedelta(days=1)}


def opt_in_mail_allowed(session: Executor, recipient: str, category: str = OPT_IN, *,
                        recent: RecentOptInMail | None = None) -> bool:
    """At most one opt-in mail of a purpose (`category`) per interval, and a few of all
    purposes together per day, to one address whatever its case.

    The caller holds a lock on the recipient's subscriber row (or SQLite's write
    lock), so concurrent submissions see each other's queued mail. `recent`: the
    reading for this recipient and category, when the caller has taken it under that lock.
    """
    if recent is None:
        now = utcnow()
        recent = RecentOptInMail(*session.execute(
            _RECENT_OPT_IN_MAIL, recent_opt_in_mail_params(recipient, now, category)).one(), now)
    config = current_app.config
    if recent.sent >= config["OPT_IN_MAIL_DAILY_LIMIT"]:
        return False
    interval_start = recent.as_of - timedelta(seconds=config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"])
    return recent.latest is None or recent.latest <= interval_start


def suppressed_address(address):
    """A SQL condition: `address` (a column or a value) is on the suppression list, or
    belongs to a suppressed subscriber. Both sides go through the database's lower(), as
    the unique index on addresses does."""
    return or_(listed(address), exists().where(func.lower(Subscriber.email) == func.lower(address),
                                               Subscriber.suppressed_at.is_not(None)))


def is_suppressed(session: Executor, recipient: str) -> bool:
    return session.scalar(select(suppressed_address(recipient)))
