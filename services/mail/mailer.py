"""Turn outbox rows into MIME messages and hand them to a delivery backend."""

import base64
import re
import smtplib
import socket
import sys
import unicodedata
from email import message_from_bytes
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path
from typing import Protocol

from email_validator import validate_email


class _UrlListHeader(UnstructuredHeader, BaseHeader):
    """RFC 2369's List-Unsubscribe: angle-bracketed URLs. The standard folding turns a URL
    longer than a line (ours always are) into RFC 2047 encoded words, which mail clients
    do not read as a URL, so one-click unsubscribe would be lost. Keep it on one line: a
    header line may be 998 characters long."""

    def fold(self, *, policy) -> str:
        line = f"{self.name}: {self}"
        if _PLAIN_HEADER_LINE.fullmatch(line):
            return line + policy.linesep
        return super().fold(policy=policy)


# Printable ASCII only (no line break can slip through unfolded), at most 998 characters.
_PLAIN_HEADER_LINE = re.compile(r"[\x20-\x7e]{1,998}")


class _HeaderClassCache(HeaderRegistry):
    """The standard registry creates a new class for every header of every mail;
    create each header's class once. And
    most headers repeat from mail to mail (From, Subject, each part's Content-Type…):
    parse each of their values once too. Header objects never change once made."""

    MOST_HEADERS_KEPT = 1024
    # Values that differ in every mail: parsed each time, so they never crowd out the rest.
    UNIQUE_PER_MAIL = frozenset({"date", "message-id", "list-unsubscribe"})

    def __init__(self):
        super().__init__()
        self.map_to_type("list-unsubscribe", _UrlListHeader)
        self._classes: dict[str, type] = {}
        self._headers: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if key not in self._classes:
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]

    def __call__(self, name: str, value) -> BaseHeader:
        if type(value) is not str or name.lower() in self.UNIQUE_PER_MAIL:  # To is an Address
            return super().__call__(name, value)
        header = self._headers.get((name, value))
        if header is None:
            if len(self._headers) >= self.MOST_HEADERS_KEPT:
                self._headers.clear()  # many lists, each its own subject, or boundaries
            header = self._headers[name, value] = super().__call__(name, value)
        return header


# The SMTP policy (CRLF, 78-column folding), with header classes made once; and for a
# mailbox name beyond ASCII, RFC 6532's UTF-8 headers (a relay without SMTPUTF8 refuses
# such mail, which is then retried and in the end given up, like any refusal).
MAIL_POLICY = SMTP.clone(header_factory=_HeaderClassCache())
UTF8_MAIL_POLICY = MAIL_POLICY.clone(utf8=True)


def safe_display_name(name: str) -> str:
    # Names are validated on the way in; this is the last line against header injection.
    return "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()


def ascii_domain(address: str) -> str:
    """The address with its domain in IDNA ASCII (xn--…), as headers and SMTP need it: the
    header folder would otherwise write encoded words into the domain. An address whose
    mailbox name is not ASCII stays whole (its domain too): it can only go by SMTPUTF8,
    which takes UTF-8 domains as they are."""
    if address.isascii():
        return address
    return validate_email(address, check_deliverability=False).ascii_email or address


class QueuedMail(Protocol):
    """What build_message reads of a queued mail: an outbox row, or a worker's claim of one."""

    @property
    def message_id(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def recipient_name(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def text_body(self) -> str: ...
    @property
    def html_body(self) -> str: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def attachments(self) -> list[dict[str, str]]: ...


def build_message(row: QueuedMail, sender: str) -> EmailMessage:
    local_part, _, domain = ascii_domain(row.recipient).rpartition("@")
    message = EmailMessage(policy=MAIL_POLICY if local_part.isascii() else UTF8_MAIL_POLICY)
    message["From"] = sender
    message["To"] = Address(display_name=safe_display_name(row.recipient_name), username=local_part, domain=domain)
    message["Subject"] = row.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = row.message_id
    message["Auto-Submitted"] = "auto-generated"
    for name, value in row.headers.items():
        message[name] = value
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    for attachment in row.attachments:
        maintype, subtype = attachment["content_type"].split("/", 1)
        message.add_attachment(
            base64.b64decode(attachment["content_base64"]),
            maintype=maintype,
            subtype=subtype,
            filename=attachment["filename"],
        )
    return message


# What a person reading the terminal needs of the headers; the rest is transport.
CONSOLE_HEADERS = ("From", "To", "Subject", "Date", "List-Unsubscribe", "List-Unsubscribe-Post")


class ConsoleBackend:
    """Prints each mail as a person reads it: the development default. The text part is
    decoded (quoted-printable would break every long link across lines); the HTML part
    and attachments are only named (GET /dev/mail shows them)."""

    def __init__(self, config, stream=None):
        self.stream = stream or sys.stdout

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send(self, message: EmailMessage, envelope_sender: str | None = None) -> None:
        headers = "".join(f"{name}: {message[name]}\n" for name in CONSOLE_HEADERS if message[name])
        text_part = message.get_body(("plain",))
        text = text_part.get_content() if text_part is not None else "(no text part)\n"
        others = [part.get_content_type() + (f" {part.get_filename()}" if part.get_filename() else "")
                  for part in message.walk() if not part.is_multipart() and part is not text_part]
        also = f"\n[also: {', '.join(others)}]\n" if others else ""
        self.stream.write(f"{'=' * 72}\n{headers}\n{text}{also}{'=' * 72}\n")
        self.stream.flush()

    def send_raw(self, sender: str, recipient: str, data: bytes, *, smtputf8: bool = False) -> None:
        """A mail already in bytes (a campaign's, filled in per recipient)."""
        self.send(message_from_bytes(data, policy=UTF8_MAIL_POLICY))


class FileBackend(ConsoleBackend):
    """Writes each mail as an .eml file under MAIL_FILE_DIR."""

    def __init__(self, config):
        self.directory = Path(config["MAIL_FILE_DIR"])
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, message: EmailMessage, envelope_sender: str | None = None) -> None:
        name = message["Message-ID"].strip("<>").replace("/", "_")
        (self.directory / f"{name}.eml").write_bytes(message.as_bytes())


class SMTPBackend:
    """One SMTP connection per batch; reopened if a send breaks it."""

    def __init__(self, config):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"],
                                  timeout=config["MAIL_TIMEOUT"])
        if config["MAIL_USE_TLS"]:
            connection.starttls()
        # A command goes out the moment it is written: a short write after a long one (the
        # final dot after a body) would otherwise wait for the server's delayed ACK (40 ms).
        if connection.sock is not None:  # connected by the constructor
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        return connection

    def send(self, message: EmailMessage, envelope_sender: str | None = None) -> None:
        """`envelope_sender`: the Return-Path bounces go to (VERP); None: the From address."""
        self._deliver(lambda connection: connection.send_message(message, from_addr=envelope_sender))

    def _deliver(self, send) -> None:
        if self.connection is None:
            self.connection = self._connect()
        connection = self.connection
        try:
            send(connection)
        except smtplib.SMTPServerDisconnected:
            self.close()
            raise
        except smtplib.SMTPException:  # a refusal (before OSError: smtplib's errors are OSErrors)
            # The connection may be mid-transaction; start the next mail clean.
            self._reset(connection)
            raise
        except OSError:
            self.close()
            raise

    def _reset(self, connection: smtplib.SMTP) -> None:
        try:
            connection.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


BACKENDS = {"console": ConsoleBackend, "file": FileBackend, "smtp": SMTPBackend}


def backend_for(config):
    name = config["MAIL_BACKEND"]
    try:
        return BACKENDS[name](config)
    except KeyError:
        raise RuntimeError(f"MAIL_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}") from None
