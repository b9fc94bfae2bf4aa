"""A suppressed address (e.g. Mailchimp's "cleaned") is never mailed."""

from datetime import UTC, datetime

from sqlalchemy import select, update

from extensions import db
from models import (
    BounceEvent,
    BounceKind,
    CampaignRecipient,
    OutboxMessage,
    OutboxStatus,
    RecipientStatus,
    Subscriber,
    Subscription,
    Suppression,
    SuppressionReason,
)
from services.core.address_hash import address_hash
from services.core.audit import CLI
from services.core.transactions import write_transaction
from services.mail import bounces, outbox, suppression
from services.mail.bounces import Bounce
from services.mail.outbox_worker import drain
from services.newsletters import campaigns
from services.privacy import privacy
from services.subscriptions import subscriptions
from services.worker.runner import Worker
from tests.support import outbox_rows


def test_subscribing_a_suppressed_address_queues_no_mail(newsletter, origin, deliver):
    db.session.add(Subscriber(email="Bounced@example.com", suppressed_at=datetime.now(UTC),
                              suppression_reason="cleaned"))
    db.session.commit()
    subscriptions.subscribe("bounced@EXAMPLE.com", "", origin)  # answers as for anyone else
    subscriptions.subscribe("fine@example.com", "", origin)
    assert [row.recipient for row in outbox_rows()] == ["fine@example.com"]
    assert [mail["To"] for mail in deliver(1)] == ["fine@example.com"]


def test_mail_queued_before_the_address_was_suppressed_is_held_back(app, newsletter, origin, smtp_sink):
    app.config["OUTBOX_BATCH_SIZE"] = 1  # whole batches held back must not end the pass
    for email in ("later-cleaned@example.com", "Also-Cleaned@example.com", "fine@example.com"):
        subscriptions.subscribe(email, "", origin)
    db.session.execute(update(Subscriber).where(Subscriber.email != "fine@example.com")
                       .values(suppressed_at=datetime.now(UTC), suppression_reason="cleaned"))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert "sent 1," in result.output and "held back (suppressed) 2" in result.output
    assert [mail["To"] for mail in smtp_sink.wait_for(1)] == ["fine@example.com"]
    held = [row for row in outbox_rows() if row.recipient != "fine@example.com"]
    assert [(row.status, "suppressed" in row.last_error) for row in held] == [(OutboxStatus.FAILED, True)] * 2
    assert drain().sent == 0  # and they stay unsent


def _listed_by_staff(address: str) -> None:
    """Put `address` on the suppression list before any subscriber has it."""
    with write_transaction() as session:
        suppression.add_by_staff(session, CLI, address, "asked by phone")


def test_an_address_only_on_the_list_gets_no_newsletter_and_no_welcome(
        app, newsletter, readers, make_campaign, origin, smtp_sink):
    _listed_by_staff("Listed@example.com")
    newsletter.welcome_text = "Glad you are here."
    db.session.commit()
    readers(newsletter, 2)
    readers(newsletter, 1, prefix="listed", status="pending")  # as an import brings them: no flag
    db.session.execute(update(Subscriber).where(Subscriber.email == "listed0@example.com")
                       .values(email="Listed@example.com"))
    db.session.commit()
    assert db.session.scalar(select(Subscriber.suppressed_at).where(Subscriber.email == "Listed@example.com")) is None

    listed = db.session.scalar(select(Subscription).join(Subscriber).where(Subscriber.email == "Listed@example.com"))
    subscriptions.confirm(subscriptions.confirm_url(listed.id, listed.link_key).rsplit("/", 1)[1], origin)
    assert outbox_rows() == []  # no welcome mail

    campaigns.send(CLI, make_campaign(newsletter))
    Worker(app).run_once()
    expected = ["reader0@example.com", "reader1@example.com"]
    assert sorted(mail["To"].addresses[0].addr_spec for mail in smtp_sink.wait_for(2)) == expected
    db.session.rollback()
    assert sorted(db.session.scalars(select(CampaignRecipient.email))) == expected


def test_an_address_listed_after_the_fan_out_is_skipped_when_its_turn_comes(
        app, newsletter, readers, make_campaign, smtp_sink):
    readers(newsletter, 2)
    campaigns.send(CLI, make_campaign(newsletter))
    worker = Worker(app)
    assert worker.run_job()  # the fan-out, nothing sent yet
    db.session.add(Suppression(address="reader1@example.com", reason=SuppressionReason.HARD_BOUNCE))
    db.session.commit()  # on the list, its subscriber not flagged
    worker.run_once()
    assert [mail["To"].addresses[0].addr_spec for mail in smtp_sink.wait_for(1)] == ["reader0@example.com"]
    db.session.rollback()
    skipped = db.session.scalar(select(CampaignRecipient).where(CampaignRecipient.email == "reader1@example.com"))
    assert skipped.status == RecipientStatus.SKIPPED


def test_erasing_a_suppressed_person_keeps_only_the_hash_and_the_address_stays_unmailed(
        app, newsletter, origin, smtp_sink):
    subscriptions.subscribe("Bounced@Example.com", "Ada", origin)
    with write_transaction() as session:
        bounces.record(session, Bounce("bounced@example.com", BounceKind.HARD, "dsn",
                                       "550 5.1.1 <bounced@example.com>: user unknown", "<m1@x>"))
        bounces.record(session, Bounce("bounced@example.com", BounceKind.SOFT, "smtp", "452 full", None))
    assert privacy.erase_address(CLI, "bounced@example.com", "test")

    rows = db.session.execute(select(Suppression.address, Suppression.reason, Suppression.detail)).all()
    assert rows == [(address_hash("bounced@example.com"), SuppressionReason.HARD_BOUNCE, "")]
    assert db.session.scalar(select(BounceEvent)) is None
    assert not any("bounced@example.com" in str(row).lower() for row in (
        *db.session.execute(select(Suppression)).all(), *db.session.execute(select(OutboxMessage)).all()))

    # They come back and sign up, twice: nothing reaches them, and the answer is as for anyone.
    subscriptions.subscribe("bounced@example.com", "Ada", origin)
    with write_transaction() as session:
        assert outbox.is_suppressed(session, "BOUNCED@example.com")
        assert not outbox.is_suppressed(session, "someone@example.com")
    subscriptions.subscribe("fine@example.com", "", origin)
    assert drain().sent == 1
    assert [mail["To"] for mail in smtp_sink.wait_for(1)] == ["fine@example.com"]
    held = [row for row in outbox_rows() if row.recipient == "bounced@example.com"]
    assert [(row.status, "suppressed" in row.last_error) for row in held] == [(OutboxStatus.FAILED, True)]

    # Erased again after a second suppression: still one row, by hash.
    with write_transaction() as session:
        suppression.suppress(session, "bounced@example.com", SuppressionReason.COMPLAINT)
    assert privacy.erase_address(CLI, "bounced@example.com", "test")
    assert db.session.execute(select(Suppression.address, Suppression.reason)).all() == [
        (address_hash("bounced@example.com"), SuppressionReason.HARD_BOUNCE)]


def test_erasing_someone_never_suppressed_lists_nothing(newsletter, origin):
    subscriptions.subscribe("reader@example.com", "", origin)
    assert privacy.erase_address(CLI, "reader@example.com", "test")
    assert db.session.scalar(select(Suppression)) is None
