"""What an SMTP server's refusal means for each recipient: permanent (5xx, never retried,
a hard bounce) or temporary (4xx, retried with backoff, a soft bounce).

Used by every sender: the outbox worker and the newsletters' campaign sender.
"""

import smtplib
from dataclasses import dataclass

REPLY_LENGTH = 1000


@dataclass(frozen=True)
class Refusal:
    recipient: str
    code: int
    reply: str  # the server's text, as it said it

    @property
    def permanent(self) -> bool:
        return self.code >= 500

    def __str__(self) -> str:
        return f"{self.code} {self.reply}"[:REPLY_LENGTH]


def _text(reply) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(str(reply).split())  # a multi-line reply on one line


def refusals(error: BaseException, recipients: list[str]) -> list[Refusal]:
    """The refusals in `error`, one per refused recipient of the mail sent to `recipients`;
    empty when `error` is no SMTP reply (a broken connection, a mail that could not be
    built): those are retried, never counted against an address.

    SMTPRecipientsRefused names each refused recipient with its own code (RCPT TO); a
    refusal after DATA (SMTPDataError) or of the sender (SMTPSenderRefused) applies to
    every recipient of the mail. A 5xx refusal of the sender is still no fault of the
    recipient's address: it is reported as temporary (retried), never as a bounce.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        by_address = {address.lower(): (code, reply) for address, (code, reply) in error.recipients.items()}
        found = []
        for recipient in recipients:
            code, reply = by_address.get(recipient.lower(), (None, None))
            if code is not None:
                found.append(Refusal(recipient, int(code), _text(reply)))
        return found
    if isinstance(error, smtplib.SMTPSenderRefused):
        return [Refusal(recipient, min(int(error.smtp_code), 499), _text(error.smtp_error)) for recipient in recipients]
    if isinstance(error, smtplib.SMTPResponseException) and 400 <= int(error.smtp_code) < 600:
        return [Refusal(recipient, int(error.smtp_code), _text(error.smtp_error)) for recipient in recipients]
    return []


def refusal(error: BaseException, recipient: str) -> Refusal | None:
    """The refusal of a mail sent to one recipient, if `error` is one."""
    found = refusals(error, [recipient])
    return found[0] if found else None
