"""The sign-up's statements, written by hand as SQL.

SQLAlchemy's ON CONFLICT constructs are not cacheable, so they would be compiled again
on every request; text is compiled once. PostgreSQL and SQLite share this syntax.
Result columns are given in order, so that SQLAlchemy keeps the result's layout rather
than matching names on every execution. bench/handwritten_app.py runs the same
statements through the bare driver (tests/test_bench_baselines.py compares the rows).
"""

from sqlalchemy import Integer, String, bindparam, column, text

from models import Subscription
from models.base import UTCDateTime

# The subscriber, new or existing (a missing name is filled in), in one statement that
# also takes its row lock: concurrent sign-ups for one address meet at the unique index
# and then queue behind that lock. A new row gets the :link_key given; an existing one
# keeps its own, which RETURNING gives for the links.
UPSERT_SUBSCRIBER = text("""
    INSERT INTO subscribers (email, full_name, created_at, link_key) VALUES (:email, :full_name, :now, :link_key)
    ON CONFLICT (lower(email)) DO UPDATE SET full_name =
        CASE WHEN subscribers.full_name = '' THEN excluded.full_name ELSE subscribers.full_name END
    RETURNING id, email, full_name, suppressed_at, link_key
""").bindparams(bindparam("now", type_=UTCDateTime())).columns(
    column("id", Integer), column("email", String), column("full_name", String),
    column("suppressed_at", UTCDateTime), column("link_key", String))

# The subscription to the public list :slug names, or with :slug '' to the default list:
# a new pending one, or the existing one with its request time renewed (unless it is
# confirmed), in the language the reader signs up in (:language; NULL keeps the one it
# had). It returns the list's name, the language of the reader's mail (theirs, else the
# list's) and the opt-in throttle's reading for the address (services/mail/opt_in_throttle.py
# READING, its two subqueries as they are there) in the same round trip. The reading must
# stay in this statement, after the subscriber upsert: that one takes the subscriber's row
# lock, and on PostgreSQL only a later statement sees the mail queued by a sign-up that held
# the lock before us.
UPSERT_SUBSCRIPTION = text("""
    INSERT INTO subscriptions (subscriber_id, list_id, status, created_at, status_changed_at, requested_at,
                               source_url, referrer, utm, link_key, language)
    SELECT :subscriber_id, id, 'pending', :now, :now, :now, :source_url, :referrer, :utm, :link_key, :language
    FROM mailing_lists WHERE (:slug = '' OR (slug = :slug AND is_public))
    ORDER BY is_default DESC, id LIMIT 1
    ON CONFLICT (subscriber_id, list_id) DO UPDATE SET requested_at =
        CASE WHEN subscriptions.status = 'confirmed' THEN subscriptions.requested_at
             ELSE excluded.requested_at END,
        language = COALESCE(excluded.language, subscriptions.language)
    RETURNING id, status, list_id, link_key,
        (SELECT name FROM mailing_lists WHERE mailing_lists.id = subscriptions.list_id) AS list_name,
        COALESCE(subscriptions.language,
                 (SELECT language FROM mailing_lists WHERE mailing_lists.id = subscriptions.list_id)) AS mail_language,
        (SELECT count(*) FROM outbox_messages WHERE lower(recipient) = lower(:recipient)
            AND category IN ('opt_in', 'course_opt_in', 'privacy_link') AND created_at > :since)
            AS opt_in_mails_in_a_day,
        (SELECT max(created_at) FROM outbox_messages WHERE lower(recipient) = lower(:recipient)
            AND category = :category AND created_at > :since)
            AS latest_opt_in_mail
""").bindparams(
    bindparam("now", type_=UTCDateTime()), bindparam("since", type_=UTCDateTime()),
    bindparam("utm", type_=Subscription.__table__.c.utm.type), bindparam("language", type_=String()),
).columns(column("id", Integer), column("status", String), column("list_id", Integer),
          column("link_key", String), column("list_name", String), column("mail_language", String),
          column("opt_in_mails_in_a_day", Integer),
          column("latest_opt_in_mail", UTCDateTime))
