"""The per-address opt-in throttle, against subscription bombing.

Mails anyone can cause by typing someone's address, one category per purpose: the
newsletter's confirmation, the enrolment's, and the privacy link. Each purpose has its
own interval (OPT_IN_MAIL_MIN_INTERVAL_SECONDS), so that one form asking for two things
(or a reader asking for their data just after subscribing) gets every mail; one daily
cap per address (OPT_IN_MAIL_DAILY_LIMIT) spans them all.

The caller holds a lock on the recipient's subscriber row (or SQLite's write lock), so
concurrent requests see each other's queued mail. The sign-up takes the reading inside
its subscription upsert (services/subscriptions/statements.py writes the same two
subqueries out), one round trip fewer; everyone else asks READING below.
"""

from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Integer, bindparam, column, text

from models.base import UTCDateTime, utcnow
from services.core.transactions import Executor

OPT_IN = "opt_in"
COURSE_OPT_IN = "course_opt_in"
PRIVACY_LINK = "privacy_link"
THROTTLED = (OPT_IN, COURSE_OPT_IN, PRIVACY_LINK)  # as the reading's IN list names them
CAP_WINDOW = timedelta(days=1)

# How many mails of every purpose in the day, and the latest of one purpose. Addresses
# differing only in case are one mailbox: both sides go through the database's lower(), as
# the unique index on subscribers' addresses and outbox_messages' recipient index do.
# Result columns in order: SQLAlchemy then caches the result's layout.
READING = text("""
    SELECT
        (SELECT count(*) FROM outbox_messages WHERE lower(recipient) = lower(:recipient)
            AND category IN ('opt_in', 'course_opt_in', 'privacy_link') AND created_at > :since) AS mails_in_a_day,
        (SELECT max(created_at) FROM outbox_messages WHERE lower(recipient) = lower(:recipient)
            AND category = :category AND created_at > :since) AS latest_mail
""").bindparams(bindparam("since", type_=UTCDateTime())).columns(
    column("mails_in_a_day", Integer), column("latest_mail", UTCDateTime))


class Reading(NamedTuple):
    """The opt-in mail queued to one address in the day before `as_of`: how many of every
    purpose, and the latest of one purpose."""

    sent: int
    latest: datetime | None
    as_of: datetime


def reading_params(recipient: str, as_of: datetime, category: str = OPT_IN) -> dict:
    """The parameters of READING (and of the sign-up's statement that embeds it)."""
    return {"recipient": recipient, "category": category, "since": as_of - CAP_WINDOW}


def allows(session: Executor, recipient: str, category: str = OPT_IN, *, reading: Reading | None = None) -> bool:
    """Whether one more mail of `category` may go to `recipient`: at most one per purpose
    per interval, and the daily cap over every purpose. `reading`: this recipient's and
    category's, when the caller has taken it under the lock."""
    if reading is None:
        now = utcnow()
        sent, latest = session.execute(READING, reading_params(recipient, now, category)).tuples().one()
        reading = Reading(sent, latest, now)
    config = current_app.config
    if reading.sent >= config["OPT_IN_MAIL_DAILY_LIMIT"]:
        return False
    interval_start = reading.as_of - timedelta(seconds=config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"])
    return reading.latest is None or reading.latest <= interval_start
