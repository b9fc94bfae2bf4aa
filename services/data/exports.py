"""Subscriber export: every subscription as one CSV row that Mailchimp and
others import unchanged, streamed, and written to the audit log."""

from dataclasses import dataclass, field

from sqlalchemy import case, literal, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import ConsentAction, ConsentEvent, MailingList, Subscriber, Subscription, SubscriptionStatus
from models.base import utcnow
from services.core import audit
from services.core.audit import Actor
from services.core.csv_safety import FORMULA_TRIGGERS, CsvStream, csv_timestamp, download_name, escape_formula
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import database_engine, read_session
from services.subscriptions.lists import list_by_slug

HEADER = ("Email Address", "First Name", "Last Name", "Full Name", "List", "Status", "Source",
          "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "UNSUB_TIME")
# Mailchimp's word for an address that bounced; here: a suppressed subscriber.
CLEANED = "cleaned"
STATUSES = (*(status.value for status in SubscriptionStatus), CLEANED)
OPTIN_ACTIONS = (ConsentAction.SUBSCRIBE_REQUESTED, ConsentAction.IMPORTED_OPTIN)
CONFIRM_ACTIONS = (ConsentAction.CONFIRMED, ConsentAction.JOINED_FROM_PREFERENCES,
                   ConsentAction.IMPORTED_CONFIRM)
AUDIT_ACTION = "subscribers.export"


@dataclass(frozen=True)
class SubscriberFilters:
    """No list means every list; no status means every status."""

    list_slug: str | None = None
    statuses: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {"list": self.list_slug, "status": list(self.statuses)}


def _latest_ip(actions: tuple[ConsentAction, ...]):
    """The IP of the subscription's latest consent event of these kinds."""
    return (
        select(ConsentEvent.ip)
        .where(ConsentEvent.subscriber_id == Subscription.subscriber_id,
               ConsentEvent.list_id == Subscription.list_id,
               ConsentEvent.action.in_(actions))
        .order_by(ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def export_statement(list_id: int | None, statuses: tuple[str, ...]):
    status = case((Subscriber.suppressed_at.is_not(None), literal(CLEANED)), else_=Subscription.status)
    statement = (
        select(
            Subscriber.email, Subscriber.full_name, MailingList.name, status, Subscription.source_url,
            csv_timestamp(Subscription.requested_at), _latest_ip(OPTIN_ACTIONS),
            csv_timestamp(Subscription.confirmed_at), _latest_ip(CONFIRM_ACTIONS),
            case((Subscription.status == SubscriptionStatus.UNSUBSCRIBED,
                  csv_timestamp(Subscription.unsubscribed_at))),
        )
        .select_from(Subscription)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .join(MailingList, MailingList.id == Subscription.list_id)
        .order_by(Subscription.id)
    )
    if list_id is not None:
        statement = statement.where(Subscription.list_id == list_id)
    if statuses:
        statement = statement.where(status.in_(statuses))
    return statement


_TRIGGERS = frozenset(FORMULA_TRIGGERS)


def _row_cells(row) -> tuple:
    """Split the name and escape every cell that holds text from outside: what people
    typed, and the IPs (a forged X-Forwarded-For, or an older row, can hold anything).
    Only the timestamps and status words are our own, and never start with a formula
    trigger. Nearly no row needs escaping, so its first characters are looked at first."""
    email, full_name, list_name, status, source, optin_at, optin_ip, confirm_at, confirm_ip, unsub_at = row
    first, _, last = full_name.partition(" ")
    if (email[:1] in _TRIGGERS or full_name[:1] in _TRIGGERS or last[:1] in _TRIGGERS
            or list_name[:1] in _TRIGGERS or (source or "")[:1] in _TRIGGERS
            or (optin_ip or "")[:1] in _TRIGGERS or (confirm_ip or "")[:1] in _TRIGGERS):
        email, first, last, full_name, list_name, source, optin_ip, confirm_ip = map(
            escape_formula, (email, first, last, full_name, list_name, source, optin_ip, confirm_ip))
    return (email, first, last, full_name, list_name, status, source,
            optin_at, optin_ip, confirm_at, confirm_ip, unsub_at)


def _check_filters(session: Session, filters: SubscriberFilters) -> int | None:
    unknown = [status for status in filters.statuses if status not in STATUSES]
    if unknown:
        raise InvalidInput("status", f"Unknown status {unknown[0]!r}; choose from {', '.join(STATUSES)}.")
    if not filters.list_slug:
        return None
    try:
        return list_by_slug(session, filters.list_slug).id
    except NotFound:
        raise InvalidInput("list", f"There is no list {filters.list_slug!r}.") from None


def audit_on_finish(engine: Engine, actor: Actor, action: str, target: str, details: dict):
    """An `on_finish` for CsvStream: the row count is known only at the end, so the
    audit row gets its own short transaction then (also when the download was cut short)."""

    def record(rows: int, completed: bool) -> None:
        with Session(engine) as session, session.begin():
            audit.record(session, actor, action, target=target,
                         details={**details, "rows": rows, "completed": completed})

    return record


def export_subscribers(filters: SubscriberFilters, actor: Actor, *, bom: bool = False) -> CsvStream:
    """Check the filters now (InvalidInput), then stream CSV bytes as iterated.

    The stream needs no app context, so a Flask view can return it as the body of
    a streaming Response directly.
    """
    list_id = _check_filters(read_session(), filters)
    engine = database_engine()
    return CsvStream(engine, export_statement(list_id, filters.statuses), HEADER, row_cells=_row_cells,
                     bom=bom, on_finish=audit_on_finish(engine, actor, AUDIT_ACTION, filters.list_slug or "all lists",
                                                        {"filters": filters.as_dict()}))


def export_filename(filters: SubscriberFilters) -> str:
    return download_name("subscribers", filters.list_slug or "all", *filters.statuses, utcnow().strftime("%Y-%m-%d"))
