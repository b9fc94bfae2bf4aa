"""`flask data move`: a database with every table filled, moved into an empty database of
the other kind (SQLite to PostgreSQL; PostgreSQL to SQLite when the suite runs on it),
serves the same exports, and a sign-up after the move gets a new id and its mail; a
target holding data is refused, and a move that failed can be run again."""

import pytest
from sqlalchemy import func, select

from extensions import db
from models import BounceKind, OutboxMessage, OutboxStatus, PublicationSettings, Subscriber
from models.campaigns import Campaign, CampaignRecipient
from services.core.audit import CLI
from services.core.transactions import write_transaction
from services.courses import enrollments
from services.courses.enrollment_details import EnrollmentInput
from services.data import import_steps, imports, loading, scheduled_backups
from services.data.enrollment_export import export_enrollments
from services.data.exports import SubscriberFilters, export_subscribers
from services.data.loading import LoadRefused, holds_data
from services.data.restore import move
from services.mail import bounces
from services.mail.outbox_worker import drain
from services.privacy import privacy
from services.subscriptions import subscriptions
from services.worker import schedule
from tests.data.databases import app_on, integrity_problems, other_kind, table_counts


def fill_every_table(app, tmp_path, origin, cohort, issue_api_token) -> None:
    """Real rows in every table, made by the services as people and staff would."""
    for n in range(5):
        subscriptions.subscribe(f"reader{n}@example.com", f"Réader {n} Ünïcode", origin)
    for n in range(3):
        enrollments.enroll(cohort.course.slug, EnrollmentInput(str(cohort.id), f"Student {n}",
                                                               f"student{n}@example.com", phone="+441234567890",
                                                               note="Line one\nline two"), origin)
    with write_transaction() as session:  # a hard bounce: the event, and the address suppressed
        bounces.record(session, bounces.Bounce("reader3@example.com", BounceKind.HARD, "smtp", "550 No such user"))
    privacy.erase(CLI, [db.session.scalar(select(Subscriber.id).where(Subscriber.email == "reader4@example.com"))])
    issue_api_token("read")
    csv = tmp_path / "members.csv"
    csv.write_text("email,name\nimported@example.com,Imported One\n", encoding="utf-8")
    imports.run_import(imports.create_job(str(csv), CLI))
    import_steps.queue_import(str(csv), CLI)
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    scheduled_backups.take_backup()
    schedule.run_due()  # the schedule's rows, and the dashboard's cached figures
    reader = db.session.scalar(select(Subscriber).where(Subscriber.email == "reader0@example.com"))
    campaign = Campaign(list_id=reader.subscriptions[0].list_id, slug="week-1", subject="Week 1",
                        body_markdown="**Hello**")
    db.session.add(campaign)
    db.session.flush()
    db.session.add(CampaignRecipient(campaign_id=campaign.id, subscriber_id=reader.id, email=reader.email))
    db.session.add(PublicationSettings(id=1, name="The Review", logo=bytes(range(256)), logo_content_type="image/png"))
    db.session.commit()


def exports(cohort_id: int) -> tuple[bytes, bytes]:
    return (b"".join(export_subscribers(SubscriberFilters(), CLI)),
            b"".join(export_enrollments(cohort_id, CLI).stream))


def test_a_full_database_moved_to_the_other_kind_serves_the_same_and_takes_new_sign_ups(
        app, newsletter, origin, make_cohort, signed_in_client, issue_api_token, tmp_path, spare_database,
        smtp_sink):
    cohort = make_cohort(capacity=2)
    fill_every_table(app, tmp_path, origin, cohort, issue_api_token)
    counts = table_counts()
    empty = [name for name, count in counts.items() if count == 0]
    assert empty == [], f"a new table? give it rows in fill_every_table(), so a move is shown to carry them: {empty}"
    before = exports(cohort.id)
    counts = table_counts()  # the exports were audited
    highest_id = db.session.scalar(select(func.max(Subscriber.id)))
    target = spare_database(other_kind())

    result = app.test_cli_runner().invoke(args=["data", "move", "--to", target])
    assert result.exit_code == 0, result.output

    with app_on(target, app):
        assert table_counts() == counts
        assert integrity_problems() == []
        assert exports(cohort.id) == before
        assert db.session.get(PublicationSettings, 1).logo == bytes(range(256))
        subscriptions.subscribe("after.move@example.com", "After Move", origin)
        newcomer = db.session.scalar(select(Subscriber).where(Subscriber.email == "after.move@example.com"))
        assert newcomer.id > highest_id
        queued = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == newcomer.email)).all()
        assert len(queued) == 1
        waiting = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.recipient != "reader3@example.com"))
        drain()  # the moved queue is delivered from the new database too (the bounced address held back)
        assert "After Move <after.move@example.com>" in [mail["To"] for mail in smtp_sink.wait_for(waiting)]


def test_a_move_refuses_a_target_holding_data_and_runs_again_after_a_failure(
        app, newsletter, origin, tmp_path, spare_database, monkeypatch):
    for n in range(3):
        subscriptions.subscribe(f"reader{n}@example.com", "", origin)
    target = spare_database(other_kind())

    def interrupted(connection):
        raise RuntimeError("connection lost")

    with monkeypatch.context() as patch:  # fails after every row was written, before the commit
        patch.setattr(loading, "_move_sequences_on", interrupted)
        with pytest.raises(RuntimeError):
            move(target)
    with app_on(target, app):
        assert not holds_data(table_counts())

    assert move(target).counts["subscribers"] == 3
    with pytest.raises(LoadRefused, match="not empty"):
        move(target)
    refused = app.test_cli_runner().invoke(args=["data", "move", "--to", target])
    assert refused.exit_code == 1 and "not empty" in refused.output
    nonsense = app.test_cli_runner().invoke(args=["data", "move", "--to", "not a url"])
    assert nonsense.exit_code == 1 and "Traceback" not in nonsense.output
