"""Subscribe, confirm, unsubscribe and preferences: the double opt-in flow.

Every public answer is the same whatever the address's state; what differs is
only the mail the address's owner receives (and at most one per window).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from babel.lists import format_list
from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from models import ConsentAction, MailingList, Subscriber, Subscription, SubscriptionStatus
from models.base import new_link_key, utcnow
from services.core.errors import InvalidInput, InvalidToken, SignupsClosed
from services.core.languages import formatting_locale, in_language, shipped
from services.core.links import external_url
from services.core.tokens import NO_LONGER_VALID, Purpose, RowLink, issued_before, make_row_token, read_row_token
from services.core.transactions import Executor, read_session, write_connection, write_transaction
from services.core.validation import clean_full_name, normalise_email, storable
from services.mail import opt_in_throttle, outbox
from services.subscriptions import consent, lists, statements
from services.subscriptions.consent import ConsentOrigin


@dataclass(frozen=True)
class ConfirmOutcome:
    list_name: str  # every list the link confirmed, as one phrase
    already_confirmed: bool


class ListRef(NamedTuple):
    id: int
    name: str


# Built once: imports and course pages ask for the default list.
_LISTS = MailingList.__table__
_DEFAULT_LIST = (select(_LISTS.c.id, _LISTS.c.name)
                 .order_by(_LISTS.c.is_default.desc(), _LISTS.c.id).limit(1))
NO_SUCH_LIST = lazy_gettext("That newsletter does not exist.")


def default_list(session: Executor) -> ListRef:
    """The list marked default, or else the oldest; SignupsClosed when there is none."""
    found = session.execute(_DEFAULT_LIST).first()
    if found is None:
        raise SignupsClosed()
    return ListRef(*found)


def public_lists(session: Session) -> list[MailingList]:
    return list(session.scalars(
        select(MailingList).where(MailingList.is_public).order_by(MailingList.name)
    ))


def offered_lists(session: Session, slug: str | None) -> tuple[MailingList | None, list[MailingList]]:
    """What a sign-up form offers: the public list it names (or the only one), or else the
    public lists to choose from."""
    public = public_lists(session)
    named = next((found for found in public if found.slug == slug), None)
    if named is None and len(public) == 1:
        named = public[0]
    return named, [] if named is not None else public


def _upsert_subscriber(connection: Connection, email: str, full_name: str, now: datetime):
    """The subscriber row, locked (statements.UPSERT_SUBSCRIBER)."""
    return connection.execute(statements.UPSERT_SUBSCRIBER, {"email": email, "full_name": full_name, "now": now,
                                                             "link_key": new_link_key()}).one()


def _upsert_subscription(connection: Connection, subscriber, list_slug: str | None, origin: ConsentOrigin,
                         now: datetime, language: str | None):
    """The subscription row (statements.UPSERT_SUBSCRIPTION); the list must exist and, if named, be public."""
    found = connection.execute(statements.UPSERT_SUBSCRIPTION, {
        "subscriber_id": subscriber.id, "slug": list_slug or "", "now": now, "source_url": origin.source_url,
        "referrer": origin.referrer, "utm": origin.utm or None, "link_key": new_link_key(), "language": language,
        **opt_in_throttle.reading_params(subscriber.email, now)}).first()
    if found is None:
        raise InvalidInput("list", str(NO_SUCH_LIST)) if list_slug else SignupsClosed()
    return found


def confirm_url(subscription_id: int, subscription_key: str, more: Sequence[tuple[int, str]] = ()) -> str:
    """Confirms the subscription, and the `more` subscriptions (id, link key) asked for with it."""
    token = make_row_token(Purpose.CONFIRM_SUBSCRIPTION, subscription_id, subscription_key, more_rows=more)
    return external_url("public.confirm", token=token)


def unsubscribe_url(subscriber_id: int, subscriber_key: str, list_id: int) -> str:
    """Leaves one list, and opens the subscriber's preferences."""
    token = make_row_token(Purpose.UNSUBSCRIBE, subscriber_id, subscriber_key, l=list_id)
    return external_url("public.unsubscribe", token=token)


def subscribe(
    raw_email: str | None,
    raw_full_name: str | None,
    origin: ConsentOrigin,
    *,
    list_slug: str | None = None,
    more_list_slugs: Sequence[str] = (),
    language: str | None = None,
) -> None:
    """Request a subscription to `list_slug` (None: the default list) and to the public
    `more_list_slugs` chosen with it: one mail covers them all. Returns nothing: callers must
    answer alike for every address. `language` is the one the reader signs up in: their mail
    is in it (None: the list's).

    The hot path of every signup form, so it is a handful of Core statements."""
    email = normalise_email(
        raw_email, check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"]
    )
    full_name = clean_full_name(raw_full_name)
    if not all(storable(slug) for slug in (list_slug or "", *more_list_slugs)):
        raise InvalidInput("list", str(NO_SUCH_LIST))
    with write_connection() as connection:
        now = utcnow()  # inside the transaction: one time for its rows and the throttle's window
        subscriber = _upsert_subscriber(connection, email, full_name, now)
        subscription = _upsert_subscription(connection, subscriber, list_slug, origin, now, shipped(language))
        chosen = {subscription.id: subscription}
        for slug in more_list_slugs:
            more = _upsert_subscription(connection, subscriber, slug, origin, now, shipped(language))
            chosen.setdefault(more.id, more)
        pending = [row for row in chosen.values() if row.status != SubscriptionStatus.CONFIRMED.value]
        for row in pending:
            consent.record(connection, ConsentAction.SUBSCRIBE_REQUESTED, origin,
                           subscriber_id=subscriber.id, list_id=row.list_id)
        # The confirmation names only what awaits it; "already subscribed" only when nothing does.
        first, *others = pending or list(chosen.values())
        send_opt_in_mail(connection, OptInMail(
            first.id, first.link_key, not pending, subscriber.id, subscriber.link_key, subscriber.email,
            subscriber.full_name, first.list_id, first.list_name, subscriber.suppressed_at is not None,
            first.mail_language, tuple(MoreList(row.id, row.link_key, row.list_name) for row in others)),
            opt_in_throttle.Reading(subscription.opt_in_mails_in_a_day, subscription.latest_opt_in_mail, now))


def names_of_lists(names: Sequence[str]) -> str:
    """Lists' names as the current language writes a list ("A, B and C")."""
    return names[0] if len(names) == 1 else format_list(list(names), locale=formatting_locale())


class MoreList(NamedTuple):
    """A further list one opt-in mail covers: its subscription and the list's name."""

    subscription_id: int
    subscription_key: str
    list_name: str


@dataclass(frozen=True)
class OptInMail:
    """What the confirmation (or "already subscribed") mail needs to know."""

    subscription_id: int
    subscription_key: str
    confirmed: bool
    subscriber_id: int
    subscriber_key: str
    email: str
    full_name: str
    list_id: int
    list_name: str
    suppressed: bool
    language: str | None
    more_lists: tuple[MoreList, ...] = ()

    @property
    def list_names(self) -> str:
        """Every list the mail covers, as one phrase."""
        return names_of_lists([self.list_name, *(more.list_name for more in self.more_lists)])

    @classmethod
    def of(cls, subscription: Subscription) -> "OptInMail":
        subscriber = subscription.subscriber
        return cls(subscription.id, subscription.link_key, subscription.status == SubscriptionStatus.CONFIRMED,
                   subscriber.id, subscriber.link_key, subscriber.email, subscriber.full_name, subscription.list_id,
                   subscription.mailing_list.name, subscriber.suppressed_at is not None,
                   subscription.language or subscription.mailing_list.language)


def send_opt_in_mail(session: Executor, mail: OptInMail, reading: opt_in_throttle.Reading | None = None) -> bool:
    """Queue the confirmation mail (or "already subscribed") unless the address had one
    too recently. The caller holds the subscriber's row lock, and may have taken the
    throttle's `reading` under it. Returns whether it was queued."""
    if mail.suppressed or not opt_in_throttle.allows(session, mail.email, reading=reading):
        return False
    leave_url = unsubscribe_url(mail.subscriber_id, mail.subscriber_key, mail.list_id)
    with in_language(mail.language):
        return _enqueue_opt_in_mail(session, mail, leave_url)


def _enqueue_opt_in_mail(session: Executor, mail: OptInMail, leave_url: str) -> bool:
    if mail.confirmed:
        template = "already_subscribed"
        subject = gettext("You're already subscribed to %(list)s", list=mail.list_names)
    else:
        template = "confirm_subscription"
        subject = gettext("Please confirm your subscription to %(list)s", list=mail.list_names)
    confirm = confirm_url(mail.subscription_id, mail.subscription_key,
                          [(more.subscription_id, more.subscription_key) for more in mail.more_lists])
    return outbox.enqueue(
        session,
        template=template,
        subject=subject,
        category=opt_in_throttle.OPT_IN,
        recipient=mail.email,
        recipient_name=mail.full_name,
        unsubscribe_url=leave_url,
        context={"list_name": mail.list_names, "confirm_url": confirm, "preferences_url": leave_url},
        suppression_checked=True,
    )


def _confirm_link(token: str) -> RowLink:
    return read_row_token(Purpose.CONFIRM_SUBSCRIPTION, token, max_age=current_app.config["CONFIRM_TOKEN_MAX_AGE"])


def _named_subscriptions(session: Session, link: RowLink, *, lock: bool = False) -> list[Subscription]:
    """The subscriptions a confirm link names that are still the rows it was issued for (one
    of several lists may have gone since), locked in id order; InvalidToken if none is."""
    found = []
    for row in sorted(link.rows(), key=lambda row: row.row_id):
        try:
            found.append(row.check(session.get(Subscription, row.row_id, with_for_update=lock)))
        except InvalidToken:
            continue
    if not found:
        raise InvalidToken(NO_LONGER_VALID)
    return found


def check_confirm_link(token: str) -> None:
    """Raise InvalidToken unless the confirm link still names a subscription (the page a GET shows)."""
    _named_subscriptions(read_session(), _confirm_link(token))


def confirm(token: str, origin: ConsentOrigin) -> ConfirmOutcome:
    """Confirm every subscription the link names, but none the reader has left since it was issued."""
    link = _confirm_link(token)
    with write_transaction() as session:
        confirmable = [subscription for subscription in _named_subscriptions(session, link, lock=True)
                       if subscription.status != SubscriptionStatus.UNSUBSCRIBED
                       or not issued_before(link.issued_at, subscription.unsubscribed_at)]
        if not confirmable:
            # Coming back after leaving needs a fresh request, not an old link.
            raise InvalidToken(gettext("This link is from before you unsubscribed."))
        now = utcnow()
        newly = [subscription for subscription in confirmable if subscription.status != SubscriptionStatus.CONFIRMED]
        for subscription in newly:
            subscription.status = SubscriptionStatus.CONFIRMED
            subscription.confirmed_at = subscription.status_changed_at = now
            consent.record(session, ConsentAction.CONFIRMED, origin,
                           subscriber_id=subscription.subscriber_id, list_id=subscription.list_id)
            _welcome(session, subscription)
        return ConfirmOutcome(names_of_lists([subscription.mailing_list.name for subscription in confirmable]),
                              already_confirmed=not newly)


def _welcome(session: Session, subscription: Subscription) -> None:
    lists.enqueue_welcome_once(
        session, subscription,
        unsubscribe_url=unsubscribe_url(subscription.subscriber_id, subscription.subscriber.link_key,
                                        subscription.list_id))


@dataclass(frozen=True)
class UnsubscribeTarget:
    """What an unsubscribe link names: the subscriber (whose key it carries) and a list."""

    link: RowLink
    list_id: int
    email: str = ""  # the subscriber's address, once their row is read

    @property
    def subscriber_id(self) -> int:
        return self.link.row_id


def check_unsubscribe_token(token: str) -> UnsubscribeTarget:
    link = read_row_token(Purpose.UNSUBSCRIBE, token)
    list_id = link.payload.get("l")
    if not isinstance(list_id, int):
        raise InvalidToken(NO_LONGER_VALID)
    return UnsubscribeTarget(link, list_id)


def _set_status(session: Session, subscription: Subscription, status: SubscriptionStatus,
                action: ConsentAction, origin: ConsentOrigin) -> None:
    now = utcnow()
    subscription.status = status
    subscription.status_changed_at = now
    if status == SubscriptionStatus.UNSUBSCRIBED:
        subscription.unsubscribed_at = now
    else:
        subscription.confirmed_at = now
    consent.record(session, action, origin,
                   subscriber_id=subscription.subscriber_id, list_id=subscription.list_id)


def unsubscribe(token: str, origin: ConsentOrigin) -> str:
    """Leave the list the token names (idempotent); return the list's name."""
    target = check_unsubscribe_token(token)
    with write_transaction() as session:
        subscription = session.scalar(
            select(Subscription).where(
                Subscription.subscriber_id == target.subscriber_id,
                Subscription.list_id == target.list_id,
            ).with_for_update()
        )
        if subscription is None:  # a link to a list the reader is not (or no longer) on
            raise InvalidToken(NO_LONGER_VALID)
        target.link.check(subscription.subscriber)
        withdraw(session, subscription, origin)
        return subscription.mailing_list.name


def withdraw(session: Session, subscription: Subscription, origin: ConsentOrigin) -> bool:
    """Unsubscribe (the caller holds the row lock); False if it already was."""
    if subscription.status == SubscriptionStatus.UNSUBSCRIBED:
        return False
    _set_status(session, subscription, SubscriptionStatus.UNSUBSCRIBED,
                ConsentAction.UNSUBSCRIBED, origin)
    return True


@dataclass(frozen=True)
class ListPreference:
    list_id: int
    name: str
    description: str
    status: SubscriptionStatus | None

    @property
    def receiving(self) -> bool:
        return self.status == SubscriptionStatus.CONFIRMED


def preferences(token: str) -> tuple[UnsubscribeTarget, list[ListPreference]]:
    """Every public list with this reader's state; the token proves the address."""
    target = check_unsubscribe_token(token)
    session = read_session()
    subscriber = target.link.check(session.get(Subscriber, target.subscriber_id))
    target = replace(target, email=subscriber.email)
    statuses = dict(session.execute(
        select(Subscription.list_id, Subscription.status)
        .where(Subscription.subscriber_id == target.subscriber_id)
    ).tuples().all())
    return target, [
        ListPreference(lst.id, lst.name, lst.description, statuses.get(lst.id))
        for lst in public_lists(session)
    ]


def update_preferences(token: str, wanted_list_ids: set[int], origin: ConsentOrigin) -> None:
    """Join or leave public lists. Joining needs no second opt-in: the signed
    token shows that this person reads mail at the address."""
    target = check_unsubscribe_token(token)
    with write_transaction() as session:
        subscriber = target.link.check(session.get(Subscriber, target.subscriber_id, with_for_update=True))
        existing = {s.list_id: s for s in session.scalars(
            select(Subscription).where(Subscription.subscriber_id == subscriber.id)
        )}
        for mailing_list in public_lists(session):
            subscription = existing.get(mailing_list.id)
            wanted = mailing_list.id in wanted_list_ids
            receiving = subscription is not None and subscription.status == SubscriptionStatus.CONFIRMED
            if wanted and not receiving:
                if subscription is None:
                    # No source: the page is Roster's own, its URL the reader's private link;
                    # the consent event names the form.
                    subscription = Subscription(subscriber=subscriber, mailing_list=mailing_list)
                    session.add(subscription)
                    session.flush()
                _set_status(session, subscription, SubscriptionStatus.CONFIRMED,
                            ConsentAction.JOINED_FROM_PREFERENCES, origin)
                _welcome(session, subscription)
            elif not wanted and subscription is not None:
                withdraw(session, subscription, origin)
