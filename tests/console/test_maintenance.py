"""Retention purge: long-pending requests and old delivered mail go; the rest stays."""

import io
import os
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from extensions import db
from models import AuditEvent, ConsentEvent, Job, JobStatus, OutboxMessage, OutboxStatus, Subscriber, Subscription
from models.base import utcnow
from services.core import jobs
from services.core.audit import CLI
from services.core.transactions import write_transaction
from services.data import imports
from services.mail.outbox_worker import drain
from services.subscriptions import subscriptions
from tests.subscriptions.test_subscriptions import token_of
from tests.support import outbox_rows


def age_requests(email: str, days: int) -> None:
    subscriber_id = db.session.scalar(select(Subscriber.id).where(Subscriber.email == email))
    db.session.execute(update(Subscription).where(Subscription.subscriber_id == subscriber_id)
                       .values(requested_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def emails() -> set[str]:
    return set(db.session.scalars(select(Subscriber.email)))


def test_purge_forgets_stale_pending_requests_and_keeps_the_rest(app, newsletter, origin, deliver):
    for email in ("stale@example.com", "fresh@example.com", "kept@example.com"):
        subscriptions.subscribe(email, "Name", origin)
    mails = deliver(3)
    subscriptions.confirm(token_of(mails[2], "confirm"), origin)
    age_requests("stale@example.com", 31)
    age_requests("kept@example.com", 400)  # confirmed long ago: not pending, so kept

    result = app.test_cli_runner().invoke(args=["maintenance", "purge"])
    assert result.exit_code == 0 and "removed 1 pending subscriptions, 1 subscribers" in result.output

    assert emails() == {"fresh@example.com", "kept@example.com"}
    orphaned = db.session.scalars(select(ConsentEvent).where(ConsentEvent.subscriber_id.is_(None))).all()
    assert [(e.action, e.ip, e.user_agent) for e in orphaned] == [("subscribe_requested", None, None)]
    assert db.session.scalars(select(AuditEvent.action)).all() == ["maintenance.purge"]

    again = app.test_cli_runner().invoke(args=["maintenance", "purge"])
    assert "removed 0 pending subscriptions" in again.output


def test_purge_drops_old_delivered_mail_only(app, newsletter, origin):
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    for n in range(3):
        subscriptions.subscribe(f"mail{n}@example.com", "", origin)
    drain()
    first, second, third = outbox_rows()
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == first.id)
                       .values(sent_at=utcnow() - timedelta(days=31)))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == third.id)
                       .values(status=OutboxStatus.FAILED, created_at=utcnow() - timedelta(days=90)))
    db.session.commit()

    app.test_cli_runner().invoke(args=["maintenance", "purge"])
    assert [row.id for row in outbox_rows()] == [second.id, third.id]


def test_purge_removes_import_uploads_left_for_a_day_unless_a_job_needs_them(app, newsletter):
    def upload(content: str, hours_old: float) -> Path:
        path = Path(imports.save_upload(io.BytesIO(content.encode()), "members.csv"))
        moment = time.time() - hours_old * 3600
        os.utime(path, (moment, moment))
        return path

    left_at_dry_run = upload("email\nold@example.com\n", hours_old=30)
    being_mapped = upload("email\nnew@example.com\n", hours_old=1)
    queued = upload("email\nqueued@example.com\n", hours_old=30)
    imports.create_job(str(queued), CLI)

    result = app.test_cli_runner().invoke(args=["maintenance", "purge"])
    assert "1 abandoned uploads" in result.output
    assert (left_at_dry_run.exists(), being_mapped.exists(), queued.exists()) == (False, True, True)


def test_purge_drops_background_jobs_finished_long_ago_only(app):
    with write_transaction() as session:
        ids = {name: jobs.enqueue(session, "test.noop") for name in ("old done", "old failed", "recent", "queued")}
    ended = {"old done": (JobStatus.SUCCEEDED, 31), "old failed": (JobStatus.FAILED, 45),
             "recent": (JobStatus.SUCCEEDED, 2)}
    for name, (status, days) in ended.items():
        db.session.execute(update(Job).where(Job.id == ids[name])
                           .values(status=status, finished_at=utcnow() - timedelta(days=days)))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["maintenance", "purge"])
    assert "2 finished jobs" in result.output
    assert set(db.session.scalars(select(Job.id))) == {ids["recent"], ids["queued"]}
