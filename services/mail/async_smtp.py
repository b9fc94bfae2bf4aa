"""Mail already in bytes sent over many SMTP connections from one thread (asyncio): a
newsletter's sending. Threads, one per connection, spent most of their time handing the
interpreter to one another; an event loop waits on every socket at once instead.

Each mail's final dot waits for `before_end` (a campaign waits there for its previous
mail's record), so the server has not taken the mail while it runs and never takes it if
it fails. The envelope goes in one write where the server pipelines (RFC 2920). Refusals
raise smtplib's own exceptions, as smtplib's sendmail would, so callers read them alike.

aiosmtplib was weighed: it sends the envelope one command at a time and the body with its
dot in one call, so it can neither pipeline nor hold the dot back.
"""

import asyncio
import base64
import re
import smtplib
import socket
import ssl
from collections.abc import Awaitable, Callable
from functools import cache

from services.mail.mailer import backend_for

_LEADING_DOT = re.compile(rb"(?m)^\.")
BeforeEnd = Callable[[], Awaitable[None]]


@cache
def _local_hostname() -> str:
    return socket.getfqdn()  # as smtplib's EHLO; looked up once (it can be slow)


def envelope_refusal(replies: list[tuple[int, bytes]], sender: str, recipient: str) -> smtplib.SMTPException | None:
    """The error smtplib's sendmail raises for these MAIL, RCPT and DATA replies, if any."""
    if replies[0][0] != 250:
        return smtplib.SMTPSenderRefused(*replies[0], sender)
    if replies[1][0] not in (250, 251):
        return smtplib.SMTPRecipientsRefused({recipient: replies[1]})
    if replies[2][0] != 354:
        return smtplib.SMTPDataError(*replies[2])
    return None


class AsyncSMTP:
    """One SMTP connection, opened on the first mail and again after a send breaks it."""

    def __init__(self, config):
        self.config = config
        self.timeout = config["MAIL_TIMEOUT"]
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.extensions: set[str] = set()

    async def _reply(self) -> tuple[int, bytes]:
        assert self.reader is not None
        lines = []
        while True:
            line = await self.reader.readline()
            if not line.endswith(b"\n"):
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            lines.append(line[4:].rstrip(b"\r\n"))
            if line[3:4] != b"-":
                break
        try:
            code = int(line[:3])
        except ValueError:
            code = -1
        return code, b"\n".join(lines)

    async def _command(self, line: str) -> tuple[int, bytes]:
        assert self.writer is not None
        self.writer.write(line.encode() + b"\r\n")
        return await self._reply()

    async def _ehlo(self) -> None:
        code, reply = await self._command(f"EHLO {_local_hostname()}")
        if code != 250:
            code, reply = await self._command(f"HELO {_local_hostname()}")
            if code != 250:
                raise smtplib.SMTPHeloError(code, reply)
            self.extensions = set()
            return
        self.extensions = {line.split(b" ", 1)[0].decode("ascii", "replace").lower()
                           for line in reply.split(b"\n")[1:] if line}

    async def _connect(self) -> None:
        config = self.config
        self.reader, self.writer = await asyncio.open_connection(config["MAIL_SERVER"], config["MAIL_PORT"])
        code, reply = await self._reply()
        if code != 220:
            raise smtplib.SMTPConnectError(code, reply)
        await self._ehlo()
        if config["MAIL_USE_TLS"]:
            code, reply = await self._command("STARTTLS")
            if code != 220:
                raise smtplib.SMTPNotSupportedError(f"STARTTLS refused: {code} {reply!r}")
            await self.writer.start_tls(ssl.create_default_context(), server_hostname=config["MAIL_SERVER"])
            await self._ehlo()
        if config["MAIL_USERNAME"]:
            secret = f"\0{config['MAIL_USERNAME']}\0{config['MAIL_PASSWORD'] or ''}".encode()
            code, reply = await self._command(f"AUTH PLAIN {base64.b64encode(secret).decode()}")
            if code != 235:
                raise smtplib.SMTPAuthenticationError(code, reply)

    async def send(self, sender: str, recipient: str, data: bytes, *, smtputf8: bool = False,
                   before_end: BeforeEnd) -> None:
        try:
            if self.writer is None:
                async with asyncio.timeout(self.timeout):
                    await self._connect()
            await self._send(sender, recipient, data, ["SMTPUTF8"] if smtputf8 else [], before_end)
        except smtplib.SMTPServerDisconnected:
            self._drop()
            raise
        except smtplib.SMTPException:  # a refusal (before OSError: smtplib's errors are OSErrors)
            await self._reset()  # the connection may be mid-transaction: start the next mail clean
            raise
        except OSError:  # TimeoutError too
            self._drop()
            raise
        except BaseException:  # before_end failed mid-DATA: drop the connection, the mail untaken
            self._drop()
            raise

    async def _send(self, sender: str, recipient: str, data: bytes, options: list[str],
                    before_end: BeforeEnd) -> None:
        assert self.writer is not None
        if any(end in sender or end in recipient for end in "\r\n"):  # as smtplib: no command smuggled in
            raise ValueError("a line break in an envelope address")
        if "size" in self.extensions:
            options = [*options, f"SIZE={len(data)}"]
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout) as deadline:
            await self._envelope_and_body(sender, recipient, data, options)
            deadline.reschedule(None)  # the wait in before_end is the caller's, not the server's
            await before_end()
            deadline.reschedule(loop.time() + self.timeout)
            self.writer.write(b".\r\n")
            code, reply = await self._reply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    async def _envelope_and_body(self, sender: str, recipient: str, data: bytes, options: list[str]) -> None:
        assert self.writer is not None
        mail_from = f"MAIL FROM:<{sender}>{''.join(' ' + option for option in options)}"
        pipelined = "pipelining" in self.extensions and sender.isascii() and recipient.isascii()
        if pipelined:
            # Both addresses are ours or were validated on the way in: no quoting per mail.
            self.writer.write(f"{mail_from}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
            replies = [await self._reply() for _ in range(3)]
        else:
            replies = [await self._command(mail_from)]
            if replies[0][0] == 250:
                replies.append(await self._command(f"RCPT TO:<{recipient}>"))
                if replies[1][0] in (250, 251):
                    replies.append(await self._command("DATA"))
        if refusal := envelope_refusal(replies, sender, recipient):
            if pipelined and replies[2][0] == 354:  # DATA taken though the envelope was not: end it empty
                self.writer.write(b".\r\n")
                await self._reply()
            raise refusal
        body = _LEADING_DOT.sub(b"..", data)
        self.writer.write(body if body.endswith(b"\r\n") else body + b"\r\n")
        await self.writer.drain()

    async def _reset(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self._command("RSET")
        except (smtplib.SMTPException, OSError, TimeoutError):
            self._drop()

    def _drop(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None

    async def close(self) -> None:
        if self.writer is None:
            return
        try:
            async with asyncio.timeout(self.timeout):
                await self._command("QUIT")
                self.writer.close()
                await self.writer.wait_closed()
        except (smtplib.SMTPException, OSError, TimeoutError):
            pass
        self._drop()


class InProcessBackend:
    """The console and file backends (development) behind the same interface."""

    def __init__(self, config):
        self.backend = backend_for(config)

    async def send(self, sender: str, recipient: str, data: bytes, *, smtputf8: bool = False,
                   before_end: BeforeEnd) -> None:
        await before_end()
        self.backend.send_raw(sender, recipient, data, smtputf8=smtputf8)

    async def close(self) -> None:
        return None


def async_backend_for(config) -> AsyncSMTP | InProcessBackend:
    return AsyncSMTP(config) if config["MAIL_BACKEND"] == "smtp" else InProcessBackend(config)
