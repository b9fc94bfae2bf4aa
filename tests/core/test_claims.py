"""A claim of n rows takes n rows, whatever plan PostgreSQL picks for it.

Written as UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED), the subquery
runs again for each row a nested-loop plan looks at, skipping the rows the UPDATE has just
changed: one claim of 4 took a whole campaign, and the second worker found nothing. The
planner picks that plan from table statistics, so these tests force it."""

import pytest
from sqlalchemy import event, select

from extensions import db
from models import CampaignRecipient, Job, JobStatus, OutboxMessage, OutboxStatus, RecipientStatus
from services.core import jobs
from services.core.transactions import write_transaction
from services.mail.outbox_worker import claim_batch
from services.newsletters import recipients
from services.subscriptions import subscriptions
from tests.newsletters.test_sending import start
from tests.support import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's planner (SQLite has no such plan)")
NESTED_LOOPS_ONLY = ("enable_hashagg", "enable_hashjoin", "enable_mergejoin", "enable_material", "enable_sort")


@pytest.fixture
def nested_loop_plans(app):
    """Every new connection plans as PostgreSQL may on its own: with nested loops."""
    def force(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            for setting in NESTED_LOOPS_ONLY:
                cursor.execute(f"SET {setting} = off")
        dbapi_connection.commit()

    db.engine.dispose()
    event.listen(db.engine, "connect", force)
    yield
    event.remove(db.engine, "connect", force)
    db.engine.dispose()


def test_a_campaign_claim_takes_no_more_than_its_batch(app, newsletter, readers, make_campaign, nested_loop_plans):
    readers(newsletter, 30)
    campaign_id = make_campaign(newsletter)
    start(app, campaign_id)
    with write_transaction() as session:
        batch, skipped = recipients.claim(session, campaign_id, newsletter.id, 4)
    assert (len(batch), skipped) == (4, 0)
    db.session.rollback()
    claimed = db.session.scalars(select(CampaignRecipient.id).where(
        CampaignRecipient.status == RecipientStatus.SENDING)).all()
    assert sorted(claimed) == [row.id for row in batch]


def test_an_outbox_claim_takes_no_more_than_its_limit(app, newsletter, origin, nested_loop_plans):
    for number in range(12):
        subscriptions.subscribe(f"reader{number}@example.com", "", origin)
    assert len(claim_batch(3).messages) == 3
    db.session.rollback()
    assert len(db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.SENDING)).all()) == 3


def test_a_job_claim_takes_one_job(app, nested_loop_plans):
    """`id = (SELECT … LIMIT 1 …)`: a scalar subquery, which PostgreSQL runs once."""
    with write_transaction() as session:
        for _ in range(6):
            jobs.enqueue(session, "test.noop")
    assert jobs.claim("worker-a", {"test.noop"}) is not None
    db.session.rollback()
    assert len(db.session.scalars(select(Job.id).where(Job.status == JobStatus.RUNNING)).all()) == 1
