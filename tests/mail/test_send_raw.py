"""A mail already in bytes sent by the campaign's SMTP client (services/mail/async_smtp.py)
with its final dot held back until before_end, what a campaign connection waits in for
its previous mail's record: the server has not taken the mail while before_end runs, and
never takes it if before_end fails; with the envelope pipelined or not."""

import asyncio
import smtplib
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.mail.async_smtp import AsyncSMTP


def raw_mail(number: int) -> bytes:
    return (f"From: news@example.com\r\nTo: reader@example.com\r\nSubject: Held\r\n"
            f"Message-ID: <held-{number}@example.com>\r\n\r\n.A line that starts with a dot\r\n").encode()


@pytest.fixture(params=[False, True], ids=["one-command-at-a-time", "pipelined"])
def sink(request, smtp_sink):
    smtp_sink.pipelining = request.param
    return smtp_sink


def run(coroutine):
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps an event loop
    in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def send_all(app, *mails) -> list:
    """Each (recipient, number, before_end) over one connection; what each send raised, or None."""
    async def send():
        client, raised = AsyncSMTP(app.config), []
        for recipient, number, before_end in mails:
            try:
                await client.send("bounces@example.com", recipient, raw_mail(number), before_end=before_end)
                raised.append(None)
            except Exception as error:  # what was raised is the result
                raised.append(error)
        await client.close()
        return raised

    return run(send())


async def nothing() -> None:
    return None


def test_the_server_takes_the_mail_only_after_before_end(app, sink):
    taken_before_end = []

    async def note():
        taken_before_end.append(len(sink.messages))

    assert send_all(app, ("reader@example.com", 1, note), ("reader@example.com", 2, note)) == [None, None]
    assert taken_before_end == [0, 1]
    mails = sink.wait_for(2)
    assert [mail["Message-ID"] for mail in mails] == ["<held-1@example.com>", "<held-2@example.com>"]
    assert sink.raw[0].endswith(b"\r\n\r\n.A line that starts with a dot\r\n")  # dot-stuffed on the wire
    assert sink.envelopes[0] == ("bounces@example.com", ["reader@example.com"])


def test_a_failing_before_end_leaves_the_mail_untaken_and_the_next_goes(app, sink):
    async def fail():
        raise RuntimeError("the record of the previous mail failed")

    raised = send_all(app, ("reader@example.com", 1, fail), ("reader@example.com", 2, nothing))
    assert isinstance(raised[0], RuntimeError) and raised[1] is None
    assert [mail["Message-ID"] for mail in sink.wait_for(1)] == ["<held-2@example.com>"]
    time.sleep(0.2)
    assert len(sink.messages) == 1


def test_a_refused_recipient_raises_as_smtplib_does_and_the_connection_goes_on(app, sink):
    sink.refuse["gone@example.com"] = "550 5.1.1 No such mailbox"
    raised = send_all(app, ("gone@example.com", 1, nothing), ("reader@example.com", 2, nothing))
    assert isinstance(raised[0], smtplib.SMTPRecipientsRefused) and raised[1] is None
    assert raised[0].recipients["gone@example.com"][0] == 550
    assert [mail["Message-ID"] for mail in sink.wait_for(1)] == ["<held-2@example.com>"]
    assert sink.greetings == 1  # reset, not reconnected


def test_a_refused_mail_raises_a_data_error_and_a_lost_server_reconnects(app, sink):
    sink.reply_with = "451 4.3.0 Try again later"
    raised = send_all(app, ("reader@example.com", 1, nothing))
    assert isinstance(raised[0], smtplib.SMTPDataError) and raised[0].smtp_code == 451
    sink.reply_with = None

    async def across_a_restart():
        client = AsyncSMTP(app.config)
        await client.send("bounces@example.com", "reader@example.com", raw_mail(2), before_end=nothing)
        sink.stop()
        sink.start()
        with pytest.raises((smtplib.SMTPServerDisconnected, OSError)):  # the old connection is gone
            await client.send("bounces@example.com", "reader@example.com", raw_mail(3), before_end=nothing)
        await client.send("bounces@example.com", "reader@example.com", raw_mail(4), before_end=nothing)
        await client.close()

    run(across_a_restart())
    assert [mail["Message-ID"] for mail in sink.wait_for(2)] == ["<held-2@example.com>", "<held-4@example.com>"]


def test_a_silent_server_times_out(app, sink):
    app.config["MAIL_TIMEOUT"] = 0.3
    sink.delay_seconds = 2

    async def time_out():
        client = AsyncSMTP(app.config)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await client.send("bounces@example.com", "reader@example.com", raw_mail(1), before_end=nothing)
        return time.monotonic() - started

    assert run(time_out()) < 1.5


def test_an_address_with_a_line_break_smuggles_no_command(app, sink):
    raised = send_all(app, ("reader@example.com>\r\nRCPT TO:<victim@example.org", 1, nothing),
                      ("reader@example.com", 2, nothing))
    assert isinstance(raised[0], ValueError) and raised[1] is None
    assert [mail["Message-ID"] for mail in sink.wait_for(1)] == ["<held-2@example.com>"]
    assert sink.envelopes == [("bounces@example.com", ["reader@example.com"])]
