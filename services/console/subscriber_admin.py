"""The staff view of subscribers: search and filters, one person's record, and the
actions staff take for a reader (unsubscribe, resend the confirmation)."""

import string
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from models import ConsentEvent, Subscriber, Subscription, SubscriptionStatus
from models.name_search import SHORTEST_INDEXED_QUERY, names_containing
from services.core import audit
from services.core.audit import Actor
from services.core.errors import InvalidInput, NotFound
from services.core.lookup import get_or_raise
from services.core.pagination import DEFAULT_PAGE_SIZE, Page, keyset_page
from services.core.transactions import write_transaction
from services.core.validation import storable
from services.subscriptions import subscriptions
from services.subscriptions.consent import STAFF_FORM, ConsentOrigin
from services.subscriptions.lists import all_lists

# Consent events record staff actions as coming from this form.
MAX_SELECTION = 500


@dataclass(frozen=True)
class SubscriberFilter:
    query: str = ""
    list_id: int | None = None
    status: SubscriptionStatus | None = None
    source: str = ""
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class SubscriberRow:
    subscriber: Subscriber
    subscriptions: list[Subscription]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


# SQLite's lower() and LIKE fold ASCII letters only, so its queries are folded the same way.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _after_prefix(prefix: str) -> str | None:
    """The least string after every string that starts with `prefix`, in codepoint
    order (None: there is no such bound)."""
    while prefix:
        following = ord(prefix[-1]) + 1
        if 0xD800 <= following <= 0xDFFF:
            following = 0xE000  # surrogates are no characters
        if following <= 0x10FFFF:
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None


def _text_match(session: Session, query: str) -> ColumnElement[bool]:
    """Addresses that start with the query (an index serves that) or, unless the query
    has an "@", names that contain it anywhere; case-insensitively."""
    if session.get_bind().dialect.name == "postgresql":
        # LIKE 'p%' uses the text_pattern_ops index; '%p%' the trigram index.
        folded = _like_escape(query.lower())
        address: ColumnElement[bool] = func.lower(Subscriber.email).like(folded + "%", escape="\\")
        if "@" in query:
            return address
        return or_(address, func.lower(Subscriber.full_name).like("%" + folded + "%", escape="\\"))
    folded = query.translate(_ASCII_LOWER)
    # A range of the unique index on lower(email): BINARY order is codepoint order.
    lower_email, after = func.lower(Subscriber.email), _after_prefix(folded)
    address = and_(lower_email >= folded, *([lower_email < after] if after else []))
    if "@" in query:
        return address
    escaped = _like_escape(folded)
    matches = or_(Subscriber.email.like(escaped + "%", escape="\\"),
                  Subscriber.full_name.like("%" + escaped + "%", escape="\\"))
    named = names_containing(query)
    if len(query) < SHORTEST_INDEXED_QUERY or _more_than(session, named) or _more_than(
            session, select(Subscriber.id).where(address)):
        # Too short for trigrams, or common: reading the page-order index newest first
        # soon finds a page of matches, where sorting every match would not.
        return matches
    # A rare term: its few candidates from the two indexes, then the same test as above.
    return and_(or_(address, Subscriber.id.in_(named)), matches)


# More candidates than this and a search reads the page-order index instead.
MOST_CANDIDATES = 2000


def _more_than(session: Session, candidates) -> bool:
    return session.execute(candidates.offset(MOST_CANDIDATES).limit(1)).first() is not None


def _filtered(session: Session, filters: SubscriberFilter):
    statement = select(Subscriber)
    if not (storable(filters.query) and storable(filters.source)):
        return statement.where(false())  # text no row can hold (a NUL byte) matches nothing
    if query := filters.query.strip():
        statement = statement.where(_text_match(session, query))
    subscription_terms = []
    if filters.list_id is not None:
        subscription_terms.append(Subscription.list_id == filters.list_id)
    if filters.status is not None:
        subscription_terms.append(Subscription.status == filters.status)
    if filters.source:
        subscription_terms.append(Subscription.source_url == filters.source)
    if subscription_terms:
        # IN, not a join: one row per subscriber however many lists match; and the
        # (source_url, status, subscriber_id) index finds a source's people outright.
        statement = statement.where(Subscriber.id.in_(
            select(Subscription.subscriber_id).where(*subscription_terms)))
    if filters.since:
        statement = statement.where(Subscriber.created_at >= _start_of(filters.since))
    if filters.until:
        statement = statement.where(Subscriber.created_at < _start_of(filters.until + timedelta(days=1)))
    return statement


def search(session: Session, filters: SubscriberFilter, cursor: str | None = None,
           size: int = DEFAULT_PAGE_SIZE) -> Page:
    """A page of subscribers, newest first, each with its subscriptions."""
    statement = _filtered(session, filters)
    page = keyset_page(session, statement, (Subscriber.created_at, Subscriber.id), cursor,
                       key_of=lambda s: (s.created_at, s.id), size=size)
    by_subscriber = defaultdict(list)
    if page.items:
        for subscription in session.scalars(
            select(Subscription).options(joinedload(Subscription.mailing_list))
            .where(Subscription.subscriber_id.in_([s.id for s in page.items]))
            .order_by(Subscription.list_id)
        ):
            by_subscriber[subscription.subscriber_id].append(subscription)
    return Page([SubscriberRow(s, by_subscriber[s.id]) for s in page.items], page.next_cursor)


@dataclass(frozen=True)
class SubscriberRecord:
    subscriber: Subscriber
    subscriptions: list[Subscription]
    consent_events: list[ConsentEvent]
    list_names: dict[int, str]


def record(session: Session, subscriber_id: int) -> SubscriberRecord:
    """One person: subscriptions and the whole consent history, oldest first."""
    subscriber = get_or_raise(session, Subscriber, subscriber_id, "No such subscriber.")
    held = list(session.scalars(
        select(Subscription).options(joinedload(Subscription.mailing_list))
        .where(Subscription.subscriber_id == subscriber_id).order_by(Subscription.list_id)
    ))
    events = list(session.scalars(
        select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber_id)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
    ))
    return SubscriberRecord(subscriber, held, events, {m.id: m.name for m in all_lists(session)})


def selection(subscriber_ids) -> list[int]:
    ids = sorted(set(subscriber_ids))
    if not ids:
        raise InvalidInput("subscribers", "Select at least one subscriber.")
    if len(ids) > MAX_SELECTION:
        raise InvalidInput("subscribers", f"Select at most {MAX_SELECTION} subscribers at once.")
    return ids


def unsubscribe(actor: Actor, subscriber_ids, list_id: int | None = None) -> list[tuple[int, str]]:
    """Unsubscribe these people from one list, or from every list; return the
    (subscriber id, list slug) of each subscription that ended, NotFound if none of
    the people exists. Each change is a consent event and an audit entry."""
    ids = selection(subscriber_ids)
    origin = ConsentOrigin(form=STAFF_FORM)
    changed_lists = defaultdict(list)
    with write_transaction() as session:
        if session.scalar(select(Subscriber.id).where(Subscriber.id.in_(ids)).limit(1)) is None:
            raise NotFound("No such subscriber.")
        statement = select(Subscription).where(Subscription.subscriber_id.in_(ids))
        if list_id is not None:
            statement = statement.where(Subscription.list_id == list_id)
        for subscription in session.scalars(
            statement.order_by(Subscription.id).with_for_update()
        ):
            if subscriptions.withdraw(session, subscription, origin):
                changed_lists[subscription.subscriber_id].append(subscription.list_id)
        for subscriber_id, list_ids in changed_lists.items():
            audit.record(session, actor, "subscriber.unsubscribe",
                         target=f"subscriber:{subscriber_id}", details={"lists": list_ids})
        slugs = {m.id: m.slug for m in all_lists(session)}
    return [(subscriber_id, slugs[list_id])
            for subscriber_id, list_ids in changed_lists.items() for list_id in list_ids]


def resend_confirmation(actor: Actor, subscriber_id: int, list_id: int) -> None:
    """Mail a pending subscriber their confirmation link again, within the same
    per-address throttle that protects readers from subscription bombing."""
    with write_transaction() as session:
        if session.get(Subscriber, subscriber_id, with_for_update=True) is None:
            raise NotFound("No such subscriber.")
        subscription = session.scalar(select(Subscription).where(
            Subscription.subscriber_id == subscriber_id, Subscription.list_id == list_id))
        if subscription is None or subscription.status != SubscriptionStatus.PENDING:
            raise InvalidInput("subscription", "Only a pending subscription can be sent "
                                               "its confirmation again.")
        if not subscriptions.send_opt_in_mail(session, subscriptions.OptInMail.of(subscription)):
            raise InvalidInput("subscription", "This address was sent a confirmation mail "
                                               "recently; try again later.")
        audit.record(session, actor, "subscription.resend_confirmation",
                     target=f"subscriber:{subscriber_id}", details={"list": list_id})
