"""Finding, reading and exporting subscribers, for staff (API, and later the console)."""

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import selectinload

from extensions import db
from models import MailingList, Subscriber, Subscription, SubscriptionStatus
from services import audit
from services.audit import Actor
from services.errors import InvalidInput, NotFound
from services.transactions import write_transaction
from services.validation import storable

MAX_PAGE_SIZE = 100
MAX_ROW_ID = 2**31 - 1  # the largest id an INTEGER column holds
MAX_PAGE = 100_000
SEARCH_MAX_LENGTH = 320
LIST_SLUG_MAX_LENGTH = 80  # keeps offsets within what every database accepts
EXPORT_HEADER = ("email", "full_name", "list", "status", "subscribed_at", "confirmed_at",
                 "unsubscribed_at", "source_url")


@dataclass(frozen=True)
class SubscriberPage:
    items: list[Subscriber]
    total: int
    page: int
    per_page: int


def parse_status(raw: str | None) -> SubscriptionStatus | None:
    if raw is None:
        return None
    try:
        return SubscriptionStatus(raw)
    except ValueError:
        raise InvalidInput("status", "Status must be pending, confirmed or unsubscribed.") from None


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(query: Select, text: str | None, list_slug: str | None,
              status: SubscriptionStatus | None) -> Select:
    if not storable(text or "") or not storable(list_slug or ""):
        return query.where(false())  # nothing stored can contain NUL
    if text:
        pattern = _like(text.strip())
        query = query.where(or_(func.lower(Subscriber.email).like(pattern, escape="\\"),
                                func.lower(Subscriber.full_name).like(pattern, escape="\\")))
    if list_slug or status is not None:
        on_list = select(Subscription.id).where(Subscription.subscriber_id == Subscriber.id)
        if list_slug:
            # An unknown list is a filter that matches nothing, not an error.
            on_list = on_list.where(Subscription.list_id.in_(
                select(MailingList.id).where(MailingList.slug == list_slug)))
        if status is not None:
            on_list = on_list.where(Subscription.status == status)
        query = query.where(on_list.exists())
    return query


def search(text: str | None = None, *, list_slug: str | None = None,
           status: SubscriptionStatus | None = None, page: int = 1, per_page: int = 50) -> SubscriberPage:
    """Subscribers whose address or name contains `text`, optionally on a list / in a state."""
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput("page", f"Page must be between 1 and {MAX_PAGE}.")
    if not 1 <= per_page <= MAX_PAGE_SIZE:
        raise InvalidInput("per_page", f"Page size must be between 1 and {MAX_PAGE_SIZE}.")
    matching = _filtered(select(Subscriber), text, list_slug, status)
    total = db.session.scalar(select(func.count()).select_from(matching.subquery()))
    items = db.session.scalars(
        matching.options(selectinload(Subscriber.subscriptions).selectinload(Subscription.mailing_list))
        .order_by(Subscriber.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return SubscriberPage(list(items), total, page, per_page)


def get(subscriber_id: int) -> Subscriber:
    found = db.session.get(Subscriber, subscriber_id, options=[
        selectinload(Subscriber.subscriptions).selectinload(Subscription.mailing_list)])
    if found is None:
        raise NotFound("There is no subscriber with that id.")
    return found


def export_rows(actor: Actor, *, list_slug: str | None = None,
                status: SubscriptionStatus | None = None) -> Iterator[tuple]:
    """One row per subscription, streamed from the database in batches.

    The export is audited now, before the first row is asked for."""
    query = (
        select(Subscriber.email, Subscriber.full_name, MailingList.slug, Subscription.status,
               Subscription.created_at, Subscription.confirmed_at, Subscription.unsubscribed_at,
               Subscription.source_url)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .join(MailingList, MailingList.id == Subscription.list_id)
        .order_by(Subscription.id)
    )
    if list_slug:
        query = query.where(MailingList.slug == list_slug if storable(list_slug) else false())
    if status is not None:
        query = query.where(Subscription.status == status)
    with write_transaction() as session:
        audit.record(session, actor, "subscriptions.export",
                     details={"list": list_slug, "status": status.value if status else None})
    return _stream(query)


def _stream(query: Select) -> Iterator[tuple]:
    for row in db.session.execute(query.execution_options(yield_per=500)):
        yield (row.email, row.full_name, row.slug, row.status.value, *row[4:])
