"""Sending a campaign through the worker into a real SMTP sink: who gets it, exactly once,
however many workers share it; an unsubscribe during sending; the rate limit."""

import re
import threading
import time
from collections import Counter

from sqlalchemy import func, select, update

from extensions import db
from models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus, Subscriber, Subscription
from models.base import utcnow
from services.core.audit import CLI
from services.newsletters import campaigns, delivery
from services.privacy import privacy
from services.subscriptions import subscriptions
from services.worker.runner import Worker
from tests.newsletters.test_worker_killed import flask_worker


def send_now(app, campaign_id: int):
    campaigns.send(CLI, campaign_id)
    return Worker(app).run_once()


def start(app, campaign_id: int) -> None:
    """Send the campaign and let the worker's job start it (the fan-out), sending nothing yet."""
    campaigns.send(CLI, campaign_id)
    worker = Worker(app)
    assert worker.run_job()


def relay_rate(sink) -> float:
    """Mails a second as the relay took them, first to last: what a rate limit protects.
    (The recorded sent_at is the record's commit, which groups mails.)"""
    times = sorted(sink.taken_at)
    return (len(times) - 1) / (times[-1] - times[0])


def addresses(mails) -> list[str]:
    return sorted(mail["To"].addresses[0].addr_spec for mail in mails)


def test_a_campaign_reaches_each_confirmed_reader_once(app, newsletter, readers, make_campaign, smtp_sink):
    readers(newsletter, 30)
    campaign_id = make_campaign(newsletter)
    result = send_now(app, campaign_id)
    assert result.newsletter_mails_sent == 30
    assert addresses(smtp_sink.wait_for(30)) == sorted(f"reader{n}@example.com" for n in range(30))
    db.session.rollback()
    campaign = db.session.get(Campaign, campaign_id)
    assert (campaign.status, campaign.recipients_count, campaign.sent_count) == (CampaignStatus.SENT, 30, 30)
    assert set(db.session.scalars(select(CampaignRecipient.status))) == {RecipientStatus.SENT}


def test_recipients_are_the_lists_confirmed_readers_when_sending_starts(
        app, newsletter, make_list, readers, make_campaign, smtp_sink):
    confirmed = readers(newsletter, 6)
    readers(newsletter, 2, status="pending", prefix="pending")
    readers(newsletter, 2, status="unsubscribed", prefix="left")
    readers(make_list("other"), 2, prefix="elsewhere")
    db.session.execute(update(Subscriber).where(Subscriber.id == confirmed[0]).values(
        suppressed_at=utcnow(), suppression_reason="bounced"))
    db.session.commit()
    privacy.erase(CLI, [confirmed[1]])
    campaign_id = make_campaign(newsletter)
    readers(newsletter, 1, prefix="late")  # confirmed before sending starts: included
    start(app, campaign_id)
    readers(newsletter, 1, prefix="after")  # after the fan-out: not included
    db.session.rollback()
    assert sorted(db.session.scalars(select(CampaignRecipient.email))) == [
        "late0@example.com", "reader2@example.com", "reader3@example.com", "reader4@example.com",
        "reader5@example.com"]
    Worker(app).run_once()
    assert addresses(smtp_sink.wait_for(5)) == sorted(db.session.scalars(select(CampaignRecipient.email)))


def test_two_workers_sharing_a_campaign_send_each_mail_exactly_once(
        app, newsletter, readers, make_campaign, smtp_sink):
    """Two senders with connections of their own claim the same campaign at once (SKIP
    LOCKED on PostgreSQL, SQLite's write lock there)."""
    readers(newsletter, 120)
    app.config.update(CAMPAIGN_BATCH_SIZE=10, CAMPAIGN_SMTP_CONNECTIONS=2)
    campaign_id = make_campaign(newsletter)
    start(app, campaign_id)
    # The sink takes no mail until more recipients are claimed than one sender can hold
    # (its batch of 10, a few handed out), so both senders are under way however loaded
    # the machine; then it takes them all.
    smtp_sink.open.clear()
    sent = []

    def worker():
        with app.app_context():
            sent.append(delivery.send_campaign(app, campaign_id, threading.Event()))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    claimed = select(func.count()).where(CampaignRecipient.status == RecipientStatus.SENDING)
    deadline = time.monotonic() + 30
    while db.session.scalar(claimed) < 20 and time.monotonic() < deadline:
        db.session.rollback()
        time.sleep(0.01)
    smtp_sink.open.set()
    for thread in threads:
        thread.join()
    assert sum(sent) == 120 and all(sent), sent  # both took part
    mails = smtp_sink.wait_for(120)
    assert Counter(mail["Message-ID"] for mail in mails).most_common(1)[0][1] == 1
    assert len(addresses(mails)) == len(set(addresses(mails))) == 120
    db.session.rollback()
    assert db.session.get(Campaign, campaign_id).status == CampaignStatus.SENT


def test_a_reader_who_unsubscribes_while_it_sends_gets_nothing_after(
        app, newsletter, readers, make_campaign, smtp_sink, origin):
    ids = readers(newsletter, 20)
    # One batch: every reader is claimed before the unsubscribe, so it is the look just
    # before each mail that stops this one.
    app.config.update(CAMPAIGN_BATCH_SIZE=20, CAMPAIGN_SMTP_CONNECTIONS=1)
    last = db.session.get(Subscriber, ids[-1])
    token_url = subscriptions.unsubscribe_url(last.id, last.link_key, newsletter.id)
    campaign_id = make_campaign(newsletter)
    start(app, campaign_id)
    smtp_sink.delay_seconds = 0.05
    sender = threading.Thread(target=lambda: app.app_context().push() or delivery.send_campaign(
        app, campaign_id, threading.Event()))
    sender.start()
    smtp_sink.wait_for(3)
    subscriptions.unsubscribe(token_url.rsplit("/", 1)[1], origin)
    sender.join()
    assert "reader19@example.com" not in addresses(smtp_sink.messages)
    assert len(smtp_sink.messages) == 19
    db.session.rollback()
    row = db.session.scalar(select(CampaignRecipient).where(CampaignRecipient.subscriber_id == last.id))
    assert row.status == RecipientStatus.SKIPPED
    campaign = db.session.get(Campaign, campaign_id)
    assert (campaign.status, campaign.sent_count, campaign.skipped_count) == (CampaignStatus.SENT, 19, 1)


def test_paused_sends_nothing_until_resumed_and_cancelled_sends_no_more(
        app, newsletter, readers, make_campaign, smtp_sink):
    readers(newsletter, 5)
    campaign_id = make_campaign(newsletter)
    start(app, campaign_id)
    campaigns.change(CLI, campaign_id, "pause")
    assert delivery.send_due(app, threading.Event()) == 0 and smtp_sink.messages == []
    campaigns.change(CLI, campaign_id, "resume")
    campaigns.change(CLI, campaign_id, "cancel")
    assert delivery.send_due(app, threading.Event()) == 0 and smtp_sink.messages == []
    db.session.rollback()
    assert db.session.get(Campaign, campaign_id).status == CampaignStatus.CANCELLED


def test_the_rate_limit_holds(app, newsletter, readers, make_campaign, smtp_sink):
    readers(newsletter, 41)
    app.config.update(CAMPAIGN_RATE_PER_SECOND=20, CAMPAIGN_SMTP_CONNECTIONS=4)
    campaign_id = make_campaign(newsletter)
    start(app, campaign_id)
    started = time.monotonic()
    delivery.send_campaign(app, campaign_id, threading.Event())
    elapsed = time.monotonic() - started
    assert len(smtp_sink.wait_for(41)) == 41
    assert abs(relay_rate(smtp_sink) - 20) <= 20 * 0.05, relay_rate(smtp_sink)
    assert elapsed >= 40 / 20 * 0.95


def test_an_erased_reader_is_not_mailed_though_queued(app, newsletter, readers, make_campaign, smtp_sink):
    ids = readers(newsletter, 3)
    campaign_id = make_campaign(newsletter)
    start(app, campaign_id)
    privacy.erase(CLI, [ids[0]])
    db.session.execute(update(Subscription).where(Subscription.subscriber_id == ids[1]).values(status="unsubscribed"))
    db.session.commit()
    Worker(app).run_once()
    assert addresses(smtp_sink.wait_for(1)) == ["reader2@example.com"]


def test_two_worker_processes_hold_one_rate_limit_together(app, database_url, newsletter, readers, make_campaign,
                                                            smtp_sink):
    """A relay's quota is one, however many workers send through it: the limit is shared."""
    readers(newsletter, 161)
    campaign_id = make_campaign(newsletter)
    start(app, campaign_id)
    # Small batches, so the worker that starts second finds mail left to claim (8 s of it).
    workers = [flask_worker(database_url, smtp_sink.port, "--once", CAMPAIGN_RATE_PER_SECOND="20",
                            CAMPAIGN_BATCH_SIZE="4", CAMPAIGN_LEASE_SECONDS="300") for _ in range(2)]
    outputs = [worker.communicate(timeout=60) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    sent_by_each = [int(re.search(r"(\d+) newsletter mails", out).group(1)) for out, _ in outputs]
    assert sum(sent_by_each) == 161 and all(sent_by_each), sent_by_each  # both took part
    assert len(smtp_sink.wait_for(161)) == 161
    assert abs(relay_rate(smtp_sink) - 20) <= 20 * 0.05, relay_rate(smtp_sink)


def test_a_reader_who_unsubscribes_while_a_slowly_paced_mail_waits_gets_nothing(
        app, newsletter, readers, make_campaign, smtp_sink, origin):
    """Under a rate limit a mail can wait a while after the look that handed it out: one
    that waited over LOOK_SECONDS is looked at again just before it goes."""
    ids = readers(newsletter, 4)
    app.config.update(CAMPAIGN_RATE_PER_SECOND=2, CAMPAIGN_SMTP_CONNECTIONS=1, CAMPAIGN_BATCH_SIZE=4)
    last = db.session.get(Subscriber, ids[-1])
    token_url = subscriptions.unsubscribe_url(last.id, last.link_key, newsletter.id)
    campaign_id = make_campaign(newsletter)
    start(app, campaign_id)
    sender = threading.Thread(target=lambda: app.app_context().push() or delivery.send_campaign(
        app, campaign_id, threading.Event()))
    sender.start()
    smtp_sink.wait_for(1)  # by now the last reader's mail is handed out, due 1.5 s after the first
    subscriptions.unsubscribe(token_url.rsplit("/", 1)[1], origin)
    sender.join()
    assert addresses(smtp_sink.messages) == ["reader0@example.com", "reader1@example.com", "reader2@example.com"]
    db.session.rollback()
    row = db.session.scalar(select(CampaignRecipient).where(CampaignRecipient.subscriber_id == last.id))
    assert row.status == RecipientStatus.SKIPPED


def test_a_paced_worker_claims_no_more_than_it_sends_within_its_lease(
        app, newsletter, readers, make_campaign, smtp_sink):
    """At 20 mails/s a batch of 40 takes 2 s, longer than a 1 s lease: had the worker claimed
    it all, a second worker would take over the rows still unsent and mail them again."""
    readers(newsletter, 40)
    app.config.update(CAMPAIGN_RATE_PER_SECOND=20, CAMPAIGN_LEASE_SECONDS=1, CAMPAIGN_BATCH_SIZE=200,
                      CAMPAIGN_SMTP_CONNECTIONS=2)
    campaign_id = make_campaign(newsletter)
    start(app, campaign_id)
    sent = []

    def worker(delay: float) -> None:
        time.sleep(delay)
        with app.app_context():
            sent.append(delivery.send_campaign(app, campaign_id, threading.Event()))

    threads = [threading.Thread(target=worker, args=(delay,)) for delay in (0, 1.3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 40, sent
    mails = smtp_sink.wait_for(40)
    assert len(addresses(mails)) == len(set(addresses(mails))) == 40
    db.session.rollback()
    assert db.session.get(Campaign, campaign_id).status == CampaignStatus.SENT


def test_a_mail_backend_that_cannot_be_made_leaves_every_recipient_to_a_later_try(
        app, newsletter, readers, make_campaign, smtp_sink):
    readers(newsletter, 12)
    app.config.update(CAMPAIGN_SMTP_CONNECTIONS=2, CAMPAIGN_BATCH_SIZE=5)
    campaign_id = make_campaign(newsletter)
    start(app, campaign_id)
    app.config["MAIL_BACKEND"] = "pigeon"
    sent = []
    sender = threading.Thread(target=lambda: app.app_context().push() or sent.append(
        delivery.send_campaign(app, campaign_id, threading.Event())))
    sender.start()
    sender.join(timeout=20)
    assert not sender.is_alive() and sent == [0]
    db.session.rollback()
    rows = db.session.scalars(select(CampaignRecipient)).all()
    assert {(row.status, row.attempts) for row in rows} == {(RecipientStatus.QUEUED, 0)}
    assert smtp_sink.messages == []
