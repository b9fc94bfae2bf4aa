"""A campaign's recipients in the database: the fan-out when sending starts, the claim of a
batch by a worker, the record of what was sent, and the end of the campaign.

Workers claim recipients as the outbox's workers claim mail: UPDATE … WHERE id IN (the
ids of SELECT … FOR UPDATE SKIP LOCKED, picked once) RETURNING on PostgreSQL, under
SQLite's write lock there, for a lease that the worker renews while it sends; a worker
that dies leaves its rows to be claimed again when the lease ends. The claim itself asks whether each reader
is still subscribed and not suppressed, and skips those who are not.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, case, exists, func, insert, literal, or_, select, update
from sqlalchemy.engine import Connection

from models import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    RecipientStatus,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from models.base import utcnow
from services.core.transactions import Executor, claimed_ids, rows_changed
from services.mail.bounces import Bounce
from services.mail.suppression import listed

_RECIPIENTS = CampaignRecipient.__table__
NOT_SUBSCRIBED = "Not sent: unsubscribed or suppressed before the mail went out."
ERROR_LENGTH = 2000
UNSENT = (RecipientStatus.QUEUED, RecipientStatus.SENDING)


def fan_out(session: Executor, campaign_id: int, list_id: int) -> int:
    """The list's confirmed, non-suppressed subscribers at this moment become the
    campaign's recipients, in one INSERT … SELECT; how many. An address on the suppression
    list counts as suppressed even when its subscriber carries no flag (listed before the
    subscriber existed)."""
    readers = (select(literal(campaign_id), Subscriber.id, Subscriber.email, Subscriber.full_name,
                      literal(RecipientStatus.QUEUED.value), literal(0))
               .join(Subscription, Subscription.subscriber_id == Subscriber.id)
               .where(Subscription.list_id == list_id, Subscription.status == SubscriptionStatus.CONFIRMED,
                      Subscriber.suppressed_at.is_(None), ~listed(Subscriber.email)))
    return rows_changed(session, insert(_RECIPIENTS).from_select(
        ["campaign_id", "subscriber_id", "email", "name", "status", "attempts"], readers))


def still_receiving(list_id: int, subscriber_id):
    """A SQL condition: the subscriber is confirmed on the list and not suppressed."""
    return exists().where(Subscription.subscriber_id == subscriber_id, Subscription.list_id == list_id,
                          Subscription.status == SubscriptionStatus.CONFIRMED,
                          Subscriber.id == Subscription.subscriber_id, Subscriber.suppressed_at.is_(None),
                          ~listed(Subscriber.email))


@dataclass(frozen=True)
class Claimed:
    id: int
    subscriber_id: int
    email: str
    name: str
    attempts: int
    link_key: str


def claim(session: Executor, campaign_id: int, list_id: int, limit: int) -> tuple[list[Claimed], int]:
    """Lease up to `limit` of a sending campaign's due recipients to this worker; those no
    longer subscribed are skipped instead. Returns the rows to send and how many were skipped."""
    now = utcnow()
    r = _RECIPIENTS.c
    due = and_(r.campaign_id == campaign_id, or_(
        and_(r.status == RecipientStatus.QUEUED, or_(r.locked_until.is_(None), r.locked_until <= now)),
        and_(r.status == RecipientStatus.SENDING, r.locked_until < now)))
    sending = exists().where(Campaign.id == campaign_id, Campaign.status == CampaignStatus.SENDING)
    leased = claimed_ids(select(r.id).where(due, sending).order_by(r.id).limit(limit).with_for_update(skip_locked=True))
    receiving = still_receiving(list_id, r.subscriber_id)
    lease_end = now + timedelta(seconds=current_app.config["CAMPAIGN_LEASE_SECONDS"])
    rows = session.execute(
        update(_RECIPIENTS).where(r.id.in_(leased)).values(
            status=case((receiving, RecipientStatus.SENDING.value), else_=RecipientStatus.SKIPPED.value),
            attempts=r.attempts + 1,
            locked_until=case((receiving, lease_end), else_=None),
            last_error=case((receiving, None), else_=NOT_SUBSCRIBED))
        .returning(r.id, r.subscriber_id, r.email, r.name, r.attempts, r.status,
                   select(Subscriber.link_key).where(Subscriber.id == r.subscriber_id).scalar_subquery())
    ).all()
    claimed = [Claimed(row[0], row[1], row[2], row[3], row[4], row[6]) for row in rows
               if row[5] == RecipientStatus.SENDING]
    return sorted(claimed, key=lambda c: c.id), len(rows) - len(claimed)


# Built once: asked again and again while sending, so their cache keys are computed once.
_RECEIVING = (select(Subscription.subscriber_id).join(Subscriber, Subscriber.id == Subscription.subscriber_id)
              .where(Subscription.subscriber_id.in_(bindparam("subscriber_ids", expanding=True)),
                     Subscription.list_id == bindparam("list_id"), Subscription.status == SubscriptionStatus.CONFIRMED,
                     Subscriber.suppressed_at.is_(None), ~listed(Subscriber.email)))
_MARK_SENT = update(_RECIPIENTS).where(_RECIPIENTS.c.id.in_(bindparam("ids", expanding=True))).values(
    status=RecipientStatus.SENT, sent_at=bindparam("now"), locked_until=None, last_error=None)


def receiving_now(connection: Connection, list_id: int, subscriber_ids: list[int]) -> set[int]:
    """Those of the subscribers still confirmed on the list and not suppressed, in one
    statement: asked just before their mails go, so an unsubscribe committed since the
    claim stops the mail."""
    return set(connection.scalars(_RECEIVING, {"list_id": list_id, "subscriber_ids": subscriber_ids}))


@dataclass(frozen=True)
class Outcome:
    recipient_id: int
    attempts: int
    error: str | None = None  # None: sent
    permanent: bool = False  # refused for good (5xx), or no longer subscribed
    skipped: bool = False
    bounce: Bounce | None = None  # the recipient refused (5xx hard, 4xx soft): recorded with the outcome


def record(connection: Connection, outcomes: list[Outcome]) -> None:
    """Store what happened to these mails, in the caller's transaction."""
    config = current_app.config
    now = utcnow()
    sent = [o.recipient_id for o in outcomes if o.error is None]
    if sent:
        connection.execute(_MARK_SENT, {"ids": sent, "now": now})
    for outcome in outcomes:
        if outcome.error is None:
            continue
        final = outcome.permanent or outcome.attempts >= config["CAMPAIGN_MAX_ATTEMPTS"]
        status = RecipientStatus.SKIPPED if outcome.skipped else (
            RecipientStatus.FAILED if final else RecipientStatus.QUEUED)
        connection.execute(update(_RECIPIENTS).where(_RECIPIENTS.c.id == outcome.recipient_id).values(
            status=status, last_error=outcome.error[:ERROR_LENGTH],
            locked_until=None if final else now + timedelta(seconds=config["CAMPAIGN_RETRY_SECONDS"])))


def renew(connection: Connection, recipient_ids: list[int], lease_seconds: float) -> None:
    """Extend the lease of rows this worker still holds (claimed, not yet sent)."""
    connection.execute(update(_RECIPIENTS).where(
        _RECIPIENTS.c.id.in_(recipient_ids), _RECIPIENTS.c.status == RecipientStatus.SENDING,
    ).values(locked_until=utcnow() + timedelta(seconds=lease_seconds)))


def release(session: Executor, recipient_ids: list[int]) -> None:
    """Give back claimed rows not sent (the campaign was paused, or the worker is
    stopping): claimable at once, the attempt not counted."""
    if recipient_ids:
        session.execute(update(_RECIPIENTS).where(
            _RECIPIENTS.c.id.in_(recipient_ids), _RECIPIENTS.c.status == RecipientStatus.SENDING,
        ).values(status=RecipientStatus.QUEUED, locked_until=None, attempts=_RECIPIENTS.c.attempts - 1))


def counts(session: Executor, campaign_id: int) -> dict[str, int]:
    """How many recipients are in each state."""
    found = dict.fromkeys((s.value for s in RecipientStatus), 0)
    for status, number in session.execute(
            select(_RECIPIENTS.c.status, func.count()).where(_RECIPIENTS.c.campaign_id == campaign_id)
            .group_by(_RECIPIENTS.c.status)):
        found[str(status)] = number
    return found


def finish_if_done(session: Executor, campaign_id: int) -> bool:
    """A sending campaign none of whose recipients waits any longer is sent, with its tally
    kept; True if this call ended it."""
    tally = counts(session, campaign_id)
    if tally[RecipientStatus.QUEUED] or tally[RecipientStatus.SENDING]:
        return False
    return rows_changed(session, update(Campaign).where(
        Campaign.id == campaign_id, Campaign.status == CampaignStatus.SENDING,
        ~exists().where(_RECIPIENTS.c.campaign_id == campaign_id, _RECIPIENTS.c.status.in_(UNSENT)),
    ).values(status=CampaignStatus.SENT, finished_at=utcnow(), **tally_values(tally))) == 1


def tally_values(tally: dict[str, int]) -> dict[str, int]:
    return {"recipients_count": sum(tally.values()), "sent_count": tally[RecipientStatus.SENT],
            "failed_count": tally[RecipientStatus.FAILED], "skipped_count": tally[RecipientStatus.SKIPPED]}
