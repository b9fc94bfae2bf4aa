"""Bounce and complaint reports arriving by mail (`flask bounces ingest`, one message on
standard input, piped in by the MTA that receives mail for BOUNCE_ADDRESS):

- delivery status notifications: RFC 3464 (Postfix, Gmail and most MTAs) and the formats
  of MTAs that predate it (Exim's X-Failed-Recipients, qmail…), read by flufl.bounce; the
  Status and Diagnostic-Code of RFC 3464's message/delivery-status give the raw reason;
- abuse reports (ARF, RFC 5965: multipart/report; report-type=feedback-report): complaints.

A report acts only on a mail it names without guessing: the signed VERP address it was
sent back to (services/mail/verp.py), or the unguessable Message-ID of an outbox mail
quoted in it. Anyone can send mail to the bounce address; nobody can make it suppress an
address that way.
"""

import email
import re
from dataclasses import dataclass
from email.message import Message

from flufl.bounce import all_failures
from sqlalchemy import select

from models import BounceKind, CampaignRecipient, OutboxMessage
from services.core.transactions import Executor, write_transaction
from services.mail import bounces, verp
from services.mail.bounces import Bounce

MAX_REPORT_BYTES = 10 * 1024 * 1024
# Headers where the MTA writes the address a bounce was delivered to.
DELIVERY_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To")
# Headers of a quoted original mail where its envelope sender or identity shows.
ORIGINAL_HEADERS = ("Return-Path", "Message-ID")
_SMTP_REPLY = re.compile(r"\b[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b.*")
COMPLAINT_TYPES = frozenset({"abuse", "fraud"})


@dataclass(frozen=True)
class SentMail:
    address: str
    message_id: str | None


@dataclass(frozen=True)
class Report:
    kind: BounceKind | None  # None: not a bounce or complaint (an auto-reply, a delivery notice)
    source: str  # dsn | arf
    reason: str
    candidates: tuple[str, ...]  # VERP addresses and Message-IDs that may name the mail


def _text(value) -> str:
    return " ".join(str(value or "").split())


def _quoted_headers(message: Message) -> list[Message]:
    """The original mail's headers quoted in a report (message/rfc822 or text/rfc822-headers)."""
    found = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822" and part.is_multipart():
            if isinstance(original := part.get_payload(0), Message):
                found.append(original)
        elif kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            found.append(email.message_from_bytes(payload if isinstance(payload, bytes) else b""))
    return found


def _candidates(message: Message, delivered_to: str | None) -> tuple[str, ...]:
    values = [delivered_to or ""] + [v for name in DELIVERY_HEADERS for v in message.get_all(name, [])]
    for quoted in _quoted_headers(message):
        values += [v for name in ORIGINAL_HEADERS for v in quoted.get_all(name, [])]
    if (report := _feedback_report(message)) is not None:
        values += report.get_all("Original-Mail-From", [])
    return tuple(dict.fromkeys(_text(v) for v in values if v))


def _delivery_status_fields(message: Message) -> list[Message]:
    """The per-recipient field groups of RFC 3464's message/delivery-status parts."""
    groups = []
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status" and isinstance(blocks := part.get_payload(), list):
            groups += [block for block in blocks[1:] if isinstance(block, Message)]
    return groups


def _dsn_reason(message: Message) -> str:
    for group in _delivery_status_fields(message):
        if group.get("Action", "").strip().lower() in ("failed", "delayed"):
            return _text(f"{group.get('Status', '')} {group.get('Diagnostic-Code', '')}")
    for part in message.walk():  # formats before RFC 3464: the first SMTP reply in the text
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            if match := _SMTP_REPLY.search(text):
                return _text(match.group(0))
    return _text(message.get("Subject"))


def _feedback_report(message: Message) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                return payload[0] if isinstance(payload[0], Message) else None
            return email.message_from_string(payload if isinstance(payload, str) else "")
    return None


def read(raw: bytes, delivered_to: str | None = None) -> Report:
    """What a report says, and the addresses and ids that may name its mail."""
    message = email.message_from_bytes(raw[:MAX_REPORT_BYTES])
    candidates = _candidates(message, delivered_to)
    if message.get_content_type() == "multipart/report" and \
            str(message.get_param("report-type") or "").lower() == "feedback-report":
        report = _feedback_report(message)
        feedback_type = _text(report.get("Feedback-Type") if report else "").lower()
        kind = BounceKind.COMPLAINT if feedback_type in COMPLAINT_TYPES else None
        return Report(kind, "arf", f"Feedback-Type: {feedback_type} {_text(report.get('User-Agent'))}".strip()
                      if report else "", candidates)
    temporary, permanent = all_failures(message)
    kind = BounceKind.HARD if permanent else BounceKind.SOFT if temporary else None
    return Report(kind, "dsn", _dsn_reason(message) if kind else "", candidates)


def sent_mail(executor: Executor, candidates: tuple[str, ...]) -> SentMail | None:
    """The mail one of `candidates` names: a signed VERP address, or an outbox Message-ID."""
    for candidate in candidates:
        for address in re.findall(r"[^\s<>,;\"]+@[^\s<>,;\"]+", candidate):
            ref = verp.read(address)
            if ref is None:
                continue
            if ref.kind == verp.OUTBOX:
                row = executor.execute(select(OutboxMessage.recipient, OutboxMessage.message_id)
                                       .where(OutboxMessage.id == ref.id)).first()
                if row is not None:
                    return SentMail(row[0], row[1])
            elif (recipient := executor.scalar(select(CampaignRecipient.email)
                                               .where(CampaignRecipient.id == ref.id))) is not None:
                return SentMail(recipient, None)
    message_ids = [c for c in candidates if c.startswith("<") and c.endswith(">")][:10]
    if message_ids:
        row = executor.execute(select(OutboxMessage.recipient, OutboxMessage.message_id)
                               .where(OutboxMessage.message_id.in_(message_ids))).first()
        if row is not None:
            return SentMail(row[0], row[1])
    return None


def ingest(raw: bytes, delivered_to: str | None = None) -> Bounce | None:
    """Read one report and record what it says about the mail it names; return the bounce
    recorded, or None for a message that is no report or names no mail of ours."""
    report = read(raw, delivered_to)
    if report.kind is None:
        return None
    with write_transaction() as session:
        mail = sent_mail(session, report.candidates)
        if mail is None:
            return None
        bounce = Bounce(mail.address, report.kind, report.source, report.reason, mail.message_id)
        bounces.record(session, bounce)
    return bounce
