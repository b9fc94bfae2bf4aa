"""VERP envelope senders: bounces+<token>@<the BOUNCE_ADDRESS domain>, where the token
names the mail that was sent (an outbox message, or a campaign's recipient) and is signed,
so a bounce sent back to it is matched to its mail and recipient without guessing, and
nobody can forge one that suppresses another reader.

The token is lower-case (some relays fold the case of a local part) and short: local
parts may be 64 characters at most.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass

from flask import current_app

OUTBOX = "o"
CAMPAIGN_RECIPIENT = "c"
_SIGNATURE_HEX = 16  # 64 bits of HMAC-SHA256
_TOKEN = re.compile(rf"([{OUTBOX}{CAMPAIGN_RECIPIENT}])(\d{{1,18}})-([0-9a-f]{{{_SIGNATURE_HEX}}})")


@dataclass(frozen=True)
class MailRef:
    kind: str  # OUTBOX or CAMPAIGN_RECIPIENT
    id: int


def _signature(key: str, payload: str) -> str:
    return hmac.new(key.encode(), b"roster.verp|" + payload.encode(), hashlib.sha256).hexdigest()[:_SIGNATURE_HEX]


def _keys() -> list[str]:
    config = current_app.config
    return [config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", [])]


def envelope_sender(kind: str, mail_id: int) -> str | None:
    """The VERP address for one mail, or None when BOUNCE_ADDRESS is not set."""
    bounce_address = current_app.config["BOUNCE_ADDRESS"]
    if not bounce_address:
        return None
    local, _, domain = bounce_address.rpartition("@")
    payload = f"{kind}{mail_id}"
    return f"{local}+{payload}-{_signature(_keys()[0], payload)}@{domain}"


def read(address: str) -> MailRef | None:
    """The mail an address built by envelope_sender() names; None for any other address."""
    local = address.strip().strip("<>").rpartition("@")[0].lower()
    match = _TOKEN.fullmatch(local.rpartition("+")[2])
    if match is None:
        return None
    kind, number, signature = match.groups()
    payload = f"{kind}{number}"
    if not any(hmac.compare_digest(signature, _signature(key, payload)) for key in _keys()):
        return None
    return MailRef(kind, int(number))
