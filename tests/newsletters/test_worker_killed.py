"""A real `flask worker` SIGKILLed in the middle of a campaign: the next worker finishes
it; nobody is missed, and only the mails in flight at the kill (at most one per SMTP
connection) arrive twice, with the same Message-ID."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import select

from extensions import db
from models import Campaign, CampaignStatus
from services.core.audit import CLI
from services.newsletters import campaigns, mail
from tests.servers import ROOT

CONNECTIONS = 3
READERS = 80
# Longer than a batch takes on a loaded machine: a claim whose lease ran out while its
# worker still sends it would be claimed again by that worker, a duplicate of another kind.
LEASE_SECONDS = "5"


def flask_worker(database_url: str, smtp_port: int, *args: str, **settings: str) -> subprocess.Popen:
    """A `flask worker` process; `settings` override its environment."""
    env = {**os.environ, "APP_ENV": "testing", "TEST_DATABASE_URL": database_url, "MAIL_SERVER": "127.0.0.1",
           "MAIL_PORT": str(smtp_port), "WORKER_POLL_SECONDS": "0.1", "CAMPAIGN_LEASE_SECONDS": LEASE_SECONDS,
           "CAMPAIGN_SMTP_CONNECTIONS": str(CONNECTIONS), "CAMPAIGN_BATCH_SIZE": "10", **settings}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_worker_killed_mid_campaign_leaves_the_rest_to_the_next(
        app, database_url, newsletter, readers, make_campaign, smtp_sink):
    ids = readers(newsletter, READERS)
    campaign_id = make_campaign(newsletter)
    campaigns.send(CLI, campaign_id)
    smtp_sink.delay_seconds = 0.03

    doomed = flask_worker(database_url, smtp_sink.port)
    try:
        smtp_sink.wait_for(12, timeout=60)
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate(timeout=10)
    assert len(smtp_sink.messages) < READERS

    time.sleep(float(LEASE_SECONDS))  # what the killed worker held is claimable once its lease ends
    rescuer = flask_worker(database_url, smtp_sink.port, "--once")
    _, errors = rescuer.communicate(timeout=60)
    assert rescuer.returncode == 0, errors

    expected = {mail.message_id(campaign_id, subscriber_id) for subscriber_id in ids}
    received = Counter(message["Message-ID"] for message in smtp_sink.messages)
    assert set(received) == expected  # nobody missed
    twice = sum(count - 1 for count in received.values())
    assert twice <= CONNECTIONS  # only the mails in flight at the kill, with the same Message-ID
    for message in smtp_sink.messages:  # each Message-ID is its reader's
        subscriber = message["Message-ID"].split("subscriber-")[1].split("@")[0]
        assert message["To"].addresses[0].addr_spec == f"reader{ids.index(int(subscriber))}@example.com"
    db.session.rollback()
    campaign = db.session.scalar(select(Campaign).where(Campaign.id == campaign_id))
    assert (campaign.status, campaign.sent_count) == (CampaignStatus.SENT, READERS)
