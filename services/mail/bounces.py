"""What a bounce or a complaint does, whichever way it arrived (an SMTP refusal at send
time, a DSN or an abuse report piped in, a provider's webhook):

- a hard bounce suppresses the address (its subscriptions then export as "cleaned");
- soft bounces are counted, and suppress once SOFT_BOUNCE_LIMIT different mails have
  bounced within SOFT_BOUNCE_WINDOW_DAYS (a mail retried through a greylisting counts once);
- a complaint unsubscribes the address from every list and suppresses it.

Each is kept in the address's bounce history with the raw reason, and the suppression or
unsubscribe is in the subscriber's consent trail.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, cast, func, insert, select, update

from models import (
    BounceEvent,
    BounceKind,
    ConsentAction,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    SuppressionReason,
)
from models.base import utcnow
from services.core.transactions import Executor
from services.mail import suppression

REASON_LENGTH = 1000


@dataclass(frozen=True)
class Bounce:
    """One report about one address."""

    address: str
    kind: BounceKind
    source: str  # smtp, dsn, arf, mailgun, sendgrid
    reason: str = ""  # the raw reply, diagnostic code or feedback type
    message_id: str | None = None
    at: datetime | None = None


def record(executor: Executor, bounce: Bounce) -> bool:
    """Record `bounce` in the caller's transaction; return whether the address is now
    suppressed because of it."""
    address, at = suppression.normalised(bounce.address)[:320], bounce.at or utcnow()
    reason = bounce.reason[:REASON_LENGTH]
    subscriber_id = executor.scalar(select(Subscriber.id).where(func.lower(Subscriber.email) == address))
    executor.execute(insert(BounceEvent.__table__), [dict(
        address=address, subscriber_id=subscriber_id, kind=bounce.kind, source=bounce.source[:20],
        reason=reason, message_id=(bounce.message_id or None) and bounce.message_id[:255], occurred_at=at)])
    if bounce.kind == BounceKind.HARD:
        return suppression.suppress(executor, address, SuppressionReason.HARD_BOUNCE, detail=reason,
                                    created_by=bounce.source, at=at)
    if bounce.kind == BounceKind.COMPLAINT:
        if subscriber_id is not None:
            _unsubscribe_everywhere(executor, subscriber_id, f"complaint:{bounce.source}", at)
        return suppression.suppress(executor, address, SuppressionReason.COMPLAINT, detail=reason,
                                    created_by=bounce.source, at=at)
    if _soft_bounces(executor, address, at) >= current_app.config["SOFT_BOUNCE_LIMIT"]:
        return suppression.suppress(executor, address, SuppressionReason.SOFT_BOUNCES, detail=reason,
                                    created_by=bounce.source, at=at)
    return False


def _soft_bounces(executor: Executor, address: str, at: datetime) -> int:
    """How many different mails to `address` bounced softly within the window."""
    since = at - timedelta(days=current_app.config["SOFT_BOUNCE_WINDOW_DAYS"])
    each_mail = func.coalesce(BounceEvent.message_id, cast(BounceEvent.id, String))
    return executor.execute(select(func.count(func.distinct(each_mail))).where(
        BounceEvent.address == address, BounceEvent.kind == BounceKind.SOFT, BounceEvent.occurred_at > since)
    ).scalar_one()


def _unsubscribe_everywhere(executor: Executor, subscriber_id: int, form: str, at: datetime) -> None:
    left = list(executor.scalars(
        update(Subscription).where(Subscription.subscriber_id == subscriber_id,
                                   Subscription.status != SubscriptionStatus.UNSUBSCRIBED)
        .values(status=SubscriptionStatus.UNSUBSCRIBED, status_changed_at=at, unsubscribed_at=at)
        .returning(Subscription.list_id)))
    suppression.record_consent(executor, ConsentAction.UNSUBSCRIBED, form, [subscriber_id], {subscriber_id: left})


def counts_since(executor: Executor, since: datetime) -> dict[BounceKind, int]:
    """Bounces and complaints of each kind since `since` (the dashboard's figures)."""
    found = dict.fromkeys(BounceKind, 0)
    for kind, number in executor.execute(select(BounceEvent.kind, func.count()).where(
            BounceEvent.occurred_at > since).group_by(BounceEvent.kind)):
        found[BounceKind(kind)] = number
    return found
