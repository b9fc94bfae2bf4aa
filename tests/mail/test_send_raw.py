"""A mail already in bytes sent with its final dot held back (SMTPBackend.send_raw's
before_end, what a campaign connection waits in for its previous mail's record): the
server has not taken the mail while before_end runs, and never takes it if before_end
fails; with the envelope pipelined or not."""

import smtplib
import time

import pytest

from services.mail.mailer import SMTPBackend


def raw_mail(number: int) -> bytes:
    return (f"From: news@example.com\r\nTo: reader@example.com\r\nSubject: Held\r\n"
            f"Message-ID: <held-{number}@example.com>\r\n\r\n.A line that starts with a dot\r\n").encode()


@pytest.fixture(params=[False, True], ids=["one-command-at-a-time", "pipelined"])
def sink(request, smtp_sink):
    smtp_sink.pipelining = request.param
    return smtp_sink


def test_the_server_takes_the_mail_only_after_before_end(app, sink):
    taken_before_end = []
    with SMTPBackend(app.config) as backend:
        for number in (1, 2):
            backend.send_raw("bounces@example.com", "reader@example.com", raw_mail(number),
                             before_end=lambda: taken_before_end.append(len(sink.messages)))
    assert taken_before_end == [0, 1]
    mails = sink.wait_for(2)
    assert [mail["Message-ID"] for mail in mails] == ["<held-1@example.com>", "<held-2@example.com>"]
    assert sink.raw[0].endswith(b"\r\n\r\n.A line that starts with a dot\r\n")  # dot-stuffed on the wire
    assert sink.envelopes[0] == ("bounces@example.com", ["reader@example.com"])


def test_a_failing_before_end_leaves_the_mail_untaken_and_the_next_goes(app, sink):
    def fail():
        raise RuntimeError("the record of the previous mail failed")

    with SMTPBackend(app.config) as backend:
        with pytest.raises(RuntimeError):
            backend.send_raw("bounces@example.com", "reader@example.com", raw_mail(1), before_end=fail)
        backend.send_raw("bounces@example.com", "reader@example.com", raw_mail(2), before_end=lambda: None)
    assert [mail["Message-ID"] for mail in sink.wait_for(1)] == ["<held-2@example.com>"]
    time.sleep(0.2)
    assert len(sink.messages) == 1


def test_a_refused_recipient_raises_as_smtplib_does_and_the_connection_goes_on(app, sink):
    sink.refuse["gone@example.com"] = "550 5.1.1 No such mailbox"
    with SMTPBackend(app.config) as backend:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            backend.send_raw("bounces@example.com", "gone@example.com", raw_mail(1), before_end=lambda: None)
        backend.send_raw("bounces@example.com", "reader@example.com", raw_mail(2), before_end=lambda: None)
    assert refused.value.recipients["gone@example.com"][0] == 550
    assert [mail["Message-ID"] for mail in sink.wait_for(1)] == ["<held-2@example.com>"]
