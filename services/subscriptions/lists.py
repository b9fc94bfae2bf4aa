"""Mailing lists: created and edited by staff; each may greet new subscribers once."""

import re
from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import MailingList, Subscription
from models.base import utcnow
from services.core import audit
from services.core.audit import Actor
from services.core.errors import InvalidInput, NotFound
from services.core.languages import DEFAULT_LANGUAGE, in_language, shipped
from services.core.lookup import get_or_raise
from services.core.transactions import write_transaction
from services.core.validation import clean_text, storable
from services.mail import outbox

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MAX_LENGTH = 80


@dataclass(frozen=True)
class ListFields:
    """What staff type into the list form, before cleaning."""

    name: str | None
    slug: str | None
    description: str | None = ""
    is_public: bool = True
    welcome_text: str | None = ""
    # The list's former Mailchimp audience (`u` and `id` of a Mailchimp form's action URL).
    mailchimp_account_id: str | None = ""
    mailchimp_audience_id: str | None = ""
    # The language of the list's mail for readers whose own is not known.
    language: str | None = DEFAULT_LANGUAGE


MAILCHIMP_ID = re.compile(r"[A-Za-z0-9]{1,40}")


def _mailchimp_id(raw: str | None, field: str) -> str | None:
    value = (raw or "").strip()
    if value and not MAILCHIMP_ID.fullmatch(value):
        raise InvalidInput(field, "Copy the value after u= or id= in your Mailchimp form's action URL: "
                                  "letters and digits only.")
    return value or None


def _cleaned(fields: ListFields) -> dict:
    name = clean_text(fields.name, field="name", label="Name", max_length=200)
    if not name:
        raise InvalidInput("name", "Enter a name.")
    language = shipped(fields.language)
    if language is None:
        raise InvalidInput("language", "Choose one of the languages offered.")
    slug = (fields.slug or "").strip().lower()
    if not SLUG_PATTERN.fullmatch(slug) or len(slug) > SLUG_MAX_LENGTH:
        raise InvalidInput("slug", "Use lower-case letters, digits and single hyphens, "
                                   f"at most {SLUG_MAX_LENGTH} characters.")
    return {
        "name": name,
        "slug": slug,
        "description": clean_text(fields.description, field="description", label="Description",
                                  max_length=2000, multiline=True),
        "is_public": bool(fields.is_public),
        "welcome_text": clean_text(fields.welcome_text, field="welcome_text", label="Welcome text",
                                   max_length=10000, multiline=True),
        "mailchimp_account_id": _mailchimp_id(fields.mailchimp_account_id, "mailchimp_account_id"),
        "mailchimp_audience_id": _mailchimp_id(fields.mailchimp_audience_id, "mailchimp_audience_id"),
        "language": language,
    }


def _flush_unique_slug(session: Session, audience_id: str | None) -> None:
    """Flush, naming the field another list already holds (slug or Mailchimp audience)."""
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        taken = audience_id is not None and session.scalar(
            select(MailingList.id).where(MailingList.mailchimp_audience_id == audience_id))
        if taken:
            raise InvalidInput("mailchimp_audience_id", "Another list already has this Mailchimp audience.") from None
        raise InvalidInput("slug", "Another list already uses this slug.") from None


def language_of(session: Session, slug: str) -> str | None:
    """The language staff chose for the list `slug` names, or None if there is no such list."""
    if not storable(slug):
        return None
    return session.scalar(select(MailingList.language).where(MailingList.slug == slug))


def slug_for_mailchimp_audience(session: Session, account_id: str | None, audience_id: str | None) -> str | None:
    """The slug of the list that carries this Mailchimp audience (`u`, `id`), or None."""
    if not audience_id or not MAILCHIMP_ID.fullmatch(audience_id):
        return None
    found = session.execute(select(MailingList.slug, MailingList.mailchimp_account_id)
                            .where(MailingList.mailchimp_audience_id == audience_id)).first()
    if found is None or (found.mailchimp_account_id and found.mailchimp_account_id != account_id):
        return None
    return found.slug


def create_list(actor: Actor, fields: ListFields) -> MailingList:
    values = _cleaned(fields)
    with write_transaction() as session:
        mailing_list = MailingList(**values)
        session.add(mailing_list)
        _flush_unique_slug(session, values["mailchimp_audience_id"])
        audit.record(session, actor, "list.create", target=f"list:{mailing_list.id}",
                     details={"slug": mailing_list.slug, "public": mailing_list.is_public})
    return mailing_list


def update_list(actor: Actor, list_id: int, fields: ListFields) -> MailingList:
    values = _cleaned(fields)
    with write_transaction() as session:
        mailing_list = get_or_raise(session, MailingList, list_id, "No such list.", for_update=True)
        if mailing_list.is_default and not values["is_public"]:
            # Forms that name no list use the default one, so it must stay public.
            raise InvalidInput("is_public", "The default list is used by forms that name no list; "
                                            "it must stay public.")
        changed = sorted(k for k, v in values.items() if getattr(mailing_list, k) != v)
        for key, value in values.items():
            setattr(mailing_list, key, value)
        _flush_unique_slug(session, values["mailchimp_audience_id"])
        audit.record(session, actor, "list.update", target=f"list:{mailing_list.id}",
                     details={"changed": changed})
    return mailing_list


def all_lists(session: Session) -> list[MailingList]:
    return list(session.scalars(select(MailingList).order_by(MailingList.name)))


def get_list(session: Session, list_id: int) -> MailingList:
    mailing_list = get_or_raise(session, MailingList, list_id, "No such list.")
    return mailing_list


def list_by_slug(session: Session, slug: str) -> MailingList:
    mailing_list = session.scalar(select(MailingList).where(MailingList.slug == slug)) \
        if storable(slug) else None  # no stored slug holds a NUL
    if mailing_list is None:
        raise NotFound("There is no list with that slug.")
    return mailing_list


def enqueue_welcome_once(session: Session, subscription: Subscription, *, unsubscribe_url: str) -> bool:
    """Queue the list's welcome mail if it has one and this subscription never got it.
    The caller holds the subscription's (or its subscriber's) row lock."""
    mailing_list = subscription.mailing_list
    if subscription.welcomed_at is not None or not mailing_list.welcome_text:
        return False
    subscriber = subscription.subscriber
    with in_language(subscription.language or mailing_list.language):
        outbox.enqueue(
            session,
            template="welcome",
            subject=gettext("Welcome to %(list)s", list=mailing_list.name),
            category=outbox.TRANSACTIONAL,
            recipient=subscriber.email,
            recipient_name=subscriber.full_name,
            unsubscribe_url=unsubscribe_url,
            context={"list_name": mailing_list.name,
                     "paragraphs": tuple(mailing_list.welcome_text.split("\n\n"))},
        )
    subscription.welcomed_at = utcnow()
    return True
