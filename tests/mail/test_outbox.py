"""Delivery through a real SMTP server on loopback: content, retries, leases, workers."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from extensions import db
from models import OutboxMessage, OutboxStatus, SubscriptionStatus
from models.base import utcnow
from services.mail import opt_in_throttle
from services.mail.outbox_worker import claim_batch, drain
from services.subscriptions import subscriptions
from tests.smtp_sink import SMTPSink
from tests.support import TEST_DATABASE_URL, link_path, outbox_rows


def test_mail_arrives_with_text_html_unsubscribe_headers_and_a_working_link(
    app, client, newsletter, origin, smtp_sink
):
    subscriptions.subscribe("reader@example.com", "Ada Reader", origin)
    assert drain().sent == 1
    [mail] = smtp_sink.wait_for(1)

    assert mail["To"] == "Ada Reader <reader@example.com>"
    assert mail["Message-ID"] == outbox_rows()[0].message_id
    assert mail["List-Unsubscribe"].startswith(f"<{app.config['BASE_URL']}/unsubscribe/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Ada Reader" in text and "International Relations Updates" in html
    assert link_path(mail, "confirm") in html

    assert client.post(link_path(mail, "confirm")).status_code == 200
    assert db.session.scalars(select(OutboxMessage.status)).one() == OutboxStatus.SENT
    from models import Subscription
    assert db.session.scalars(select(Subscription.status)).one() == SubscriptionStatus.CONFIRMED


def test_smtp_down_keeps_the_subscription_and_sends_once_it_is_back(app, newsletter, origin, smtp_sink):
    smtp_sink.stop()
    subscriptions.subscribe("patient@example.com", "", origin)
    result = drain()
    assert result.sent == 0 and result.failed_attempts == 1
    [row] = outbox_rows()
    assert row.status == OutboxStatus.QUEUED and row.attempts == 1 and row.last_error

    smtp_sink.start()
    assert drain().sent == 1
    assert len(smtp_sink.wait_for(1)) == 1
    db.session.refresh(row)
    assert row.status == OutboxStatus.SENT and row.last_error is None


def test_server_refusals_retry_with_backoff_then_give_up_with_the_error_kept(app, newsletter, origin,
                                                                            smtp_sink):
    app.config.update(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_BACKOFF_SECONDS=60)
    smtp_sink.reply_with = "451 4.3.0 try later"
    subscriptions.subscribe("refused@example.com", "", origin)
    assert drain().failed_attempts == 1
    [row] = outbox_rows()
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)
    assert drain().failed_attempts == 0  # not due yet

    for _ in range(2):
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        drain()
    db.session.refresh(row)
    assert row.status == OutboxStatus.FAILED and row.attempts == 3
    assert "451" in row.last_error
    assert smtp_sink.messages == []


def test_a_worker_that_dies_mid_send_leaves_its_rows_for_another(app, newsletter, origin, smtp_sink):
    subscriptions.subscribe("orphan@example.com", "", origin)
    assert len(claim_batch(10).messages) == 1  # claimed, then the worker "dies"
    assert drain().sent == 0  # leased: nobody else may send it yet

    db.session.execute(update(OutboxMessage).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert drain().sent == 1
    [mail] = smtp_sink.wait_for(1)
    assert mail["Message-ID"] == outbox_rows()[0].message_id


def test_one_connection_serves_a_batch(app, newsletter, make_list, origin, smtp_sink, monkeypatch):
    import smtplib

    connections = []
    original = smtplib.SMTP.connect

    def counting_connect(self, *args, **kwargs):
        connections.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", counting_connect)
    for n in range(5):
        subscriptions.subscribe(f"batch{n}@example.com", "", origin)
    assert drain().sent == 5
    assert len(connections) == 1


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="SKIP LOCKED concurrency needs PostgreSQL")
def test_two_workers_on_postgresql_send_every_message_exactly_once(app, newsletter, origin, smtp_sink):
    app.config.update(OPT_IN_MAIL_MIN_INTERVAL_SECONDS=0, OUTBOX_BATCH_SIZE=1)
    for n in range(60):
        subscriptions.subscribe(f"worker{n}@example.com", "", origin)

    results = []

    def worker():
        with app.app_context():
            results.append(drain())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    mails = smtp_sink.wait_for(60)
    assert sum(r.sent for r in results) == 60
    assert all(r.sent > 0 for r in results), "both workers should have claimed batches"
    assert Counter(m["Message-ID"] for m in mails).most_common(1)[0][1] == 1
    assert {row.status for row in outbox_rows()} == {OutboxStatus.SENT}


def test_mail_is_built_as_the_standard_smtp_policy_builds_it_with_each_header_class_made_once():
    import re
    from email.message import EmailMessage
    from email.policy import SMTP

    from services.mail.mailer import MAIL_POLICY

    def build(policy):
        message = EmailMessage(policy=policy)
        message["From"] = "Roster <roster@example.com>"
        message["To"] = "Ada Reader <reader@example.com>"
        message["Subject"] = "Please confirm your subscription to a newsletter with a long name " * 2
        message["Date"] = "Sat, 28 Nov 2026 00:00:00 GMT"
        message["Message-ID"] = "<0123456789abcdef@example.com>"
        message["Auto-Submitted"] = "auto-generated"
        message["List-Unsubscribe"] = "<https://example.com/unsubscribe/t>"  # a long one: the test below
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content("Dear Ada,\n" * 20)
        message.add_alternative("<p>Dear Ada, Zoë</p>" * 20, subtype="html")
        message.add_attachment(b"BEGIN:VCALENDAR", maintype="text", subtype="calendar", filename="course.ics")
        # MIME boundaries are random: the same mail has different ones each time.
        return re.sub(rb"=+_?\d+==", b"BOUNDARY", message.as_bytes())

    assert build(MAIL_POLICY) == build(SMTP)
    assert build(MAIL_POLICY) == build(SMTP)  # again, now from headers parsed before
    factory = MAIL_POLICY.header_factory
    assert factory["subject"] is factory["Subject"]
    assert factory("Subject", "Hello") is factory("Subject", "Hello")  # each value parsed once
    for n in range(factory.MOST_HEADERS_KEPT + 1):  # values that never repeat do not pile up
        factory("Message-ID", f"<{n}@example.com>")
    assert len(factory._headers) <= factory.MOST_HEADERS_KEPT


def header_lines(raw: bytes, name: bytes) -> list[bytes]:
    """A header of a raw mail as its lines (the first, then any continuation lines)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    start = next(index for index, line in enumerate(head) if line.lower().startswith(name.lower() + b":"))
    end = next((index for index in range(start + 1, len(head)) if head[index][:1] not in (b" ", b"\t")), len(head))
    return head[start:end]


def test_list_unsubscribe_reaches_mail_clients_as_a_url_however_long(app, newsletter, origin, smtp_sink):
    # Mail clients read RFC 2369's <URL> only as written: folded into RFC 2047 encoded
    # words (the standard policy's way with a long word) it is no link at all.
    app.config["BASE_URL"] = "https://newsletters.publisher.example/roster"
    subscriptions.subscribe("reader@example.com", "Ada Reader", origin)
    drain()
    smtp_sink.wait_for(1)
    [line] = header_lines(smtp_sink.raw[0], b"List-Unsubscribe")
    assert line.startswith(b"List-Unsubscribe: <https://newsletters.publisher.example/roster/unsubscribe/")
    assert line.endswith(b">") and b"=?" not in line and len(line) > 78
    assert header_lines(smtp_sink.raw[0], b"List-Unsubscribe-Post") == [
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"]


def test_an_address_at_an_international_domain_is_mailed_at_its_ascii_form(app, newsletter, origin, smtp_sink):
    subscriptions.subscribe("Reader@Bücher.example", "Zoë Ünal", origin)
    drain()
    [mail] = smtp_sink.wait_for(1)
    assert smtp_sink.envelopes[0][1] == ["Reader@xn--bcher-kva.example"]
    [to] = header_lines(smtp_sink.raw[0], b"To")
    assert to.endswith(b" <Reader@xn--bcher-kva.example>") and to.isascii()
    assert mail["To"].addresses[0].display_name == "Zoë Ünal"


def test_a_mailbox_name_beyond_ascii_goes_by_smtputf8_and_never_holds_up_other_mail(app, newsletter, origin,
                                                                                    smtp_sink):
    app.config["OUTBOX_BACKOFF_SECONDS"] = 0
    subscriptions.subscribe("zoë@example.com", "Zoë Ünal", origin)
    subscriptions.subscribe("ada@example.com", "Ada Reader", origin)
    result = drain()  # this relay does not speak SMTPUTF8: that one mail waits, the next goes
    assert (result.sent, result.failed_attempts) == (1, 1)
    assert [mail["To"].addresses[0].addr_spec for mail in smtp_sink.wait_for(1)] == ["ada@example.com"]
    waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.QUEUED)).one()
    assert waiting.recipient == "zoë@example.com" and "SMTPUTF8" in waiting.last_error

    smtp_sink.stop()
    utf8_relay = SMTPSink(smtp_sink.port, smtputf8=True).start()
    try:
        assert drain().sent == 1
        utf8_relay.wait_for(1)
        assert utf8_relay.envelopes[0][1] == ["zoë@example.com"]
        assert "To: Zoë Ünal <zoë@example.com>".encode() in utf8_relay.raw[0]  # RFC 6532: UTF-8 as it is
    finally:
        utf8_relay.stop()


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's planner; PostgreSQL picks by table statistics")
def test_the_throttle_reads_an_address_s_mail_through_its_case_insensitive_index(app):
    plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {opt_in_throttle.READING}"),
                              opt_in_throttle.reading_params("Reader@example.com", utcnow())).all()
    searches = [row[-1] for row in plan if "SEARCH outbox_messages" in row[-1]]
    assert len(searches) == 2
    assert all("ix_outbox_messages_recipient_lower" in search for search in searches)
