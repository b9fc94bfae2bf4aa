"""A real SMTP server on loopback that keeps what it receives, for tests."""

import asyncio
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPSink:
    def __init__(self, port: int | None = None, *, smtputf8: bool = False):
        self.port = port or free_port()
        self.smtputf8 = smtputf8  # whether it takes mail for mailbox names beyond ASCII (RFC 6531)
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # each mail's bytes as they arrived
        self.envelopes: list[tuple[str, list[str]]] = []
        self.taken_at: list[float] = []  # time.monotonic() as each mail was taken
        self._arrived = threading.Condition()
        self._controller: Controller | None = None
        # Set to an SMTP status line ("451 ...") to make the server refuse mail.
        self.reply_with: str | None = None
        self.delay_seconds = 0.0  # a slow server, for drills that interrupt a batch
        # While clear, DATA waits for it: a test holds every mail until senders are in place.
        self.open = threading.Event()
        self.open.set()
        # Recipients refused at RCPT TO, by lower-cased address: the reply ("550 5.1.1 ...").
        self.refuse: dict[str, str] = {}
        self.pipelining = False  # whether EHLO offers PIPELINING (RFC 2920), as most relays do
        self.greetings = 0  # EHLOs received: about one a connection

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.greetings += 1
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")  # before the last line, "250 HELP"
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reply := self.refuse.get(address.lower()):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        while not self.open.is_set():
            await asyncio.sleep(0.005)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.reply_with:
            return self.reply_with
        with self._arrived:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.raw.append(envelope.content)
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.taken_at.append(time.monotonic())
            self._arrived.notify_all()
        return "250 OK"

    def start(self) -> "SMTPSink":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} mails, got {len(self.messages)}")
                self._arrived.wait(remaining)
        return list(self.messages)
