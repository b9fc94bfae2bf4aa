"""Retention: forget never-confirmed requests, delivered mail, abandoned import
uploads, ended staff sessions and finished background jobs after a while."""

from dataclasses import asdict, dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, exists, select, tuple_, update

from models import ConsentEvent, OutboxMessage, OutboxStatus, Subscriber, Subscription, SubscriptionStatus
from models.base import utcnow
from services.core import audit, jobs
from services.core.transactions import rows_changed, write_transaction
from services.data import imports
from services.staff import staff_sessions


@dataclass(frozen=True)
class PurgeResult:
    pending_subscriptions: int
    subscribers: int
    consent_events_anonymised: int
    sent_mail: int
    abandoned_uploads: int
    staff_sessions: int
    finished_jobs: int


def purge(actor: audit.Actor = audit.CLI) -> PurgeResult:
    """Safe to run at any time (the worker runs it daily): each run removes only what has aged out."""
    config = current_app.config
    now = utcnow()
    pending_cutoff = now - timedelta(days=config["RETENTION_PENDING_DAYS"])
    mail_cutoff = now - timedelta(days=config["RETENTION_SENT_MAIL_DAYS"])
    with write_transaction() as session:
        stale = session.execute(
            select(Subscription.subscriber_id, Subscription.list_id).where(
                Subscription.status == SubscriptionStatus.PENDING,
                Subscription.requested_at < pending_cutoff,
            )
        ).all()
        anonymised = 0
        if stale:
            # The consent trail stays (what happened, when, on which form) but no longer says who.
            anonymised = rows_changed(
                session,
                update(ConsentEvent)
                .where(tuple_(ConsentEvent.subscriber_id, ConsentEvent.list_id).in_(stale))
                .values(subscriber_id=None, ip=None, user_agent=None),
            )
            session.execute(
                delete(Subscription).where(tuple_(Subscription.subscriber_id, Subscription.list_id).in_(stale))
            )
        orphans = rows_changed(
            session,
            delete(Subscriber).where(
                Subscriber.id.in_({subscriber_id for subscriber_id, _ in stale}),
                ~exists().where(Subscription.subscriber_id == Subscriber.id),
            ),
        ) if stale else 0
        sent_mail = rows_changed(
            session,
            delete(OutboxMessage).where(
                and_(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < mail_cutoff)
            ),
        )
        uploads = imports.discard_abandoned_uploads(session)
        ended_sessions = staff_sessions.purge_ended(session)
        finished_jobs = jobs.purge_finished(session)
        result = PurgeResult(len(stale), orphans, anonymised, sent_mail, uploads, ended_sessions, finished_jobs)
        audit.record(session, actor, "maintenance.purge", details=asdict(result))
    return result
