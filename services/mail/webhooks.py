"""Bounce and complaint webhooks of sending services, each checked with the provider's
own signature before anything is read:

- Mailgun: HMAC-SHA256 of timestamp + token with the webhook signing key
  (MAILGUN_WEBHOOK_SIGNING_KEY), in the JSON body's `signature`;
- SendGrid (Twilio) signed event webhook: ECDSA P-256 / SHA-256 over timestamp + raw body,
  verified with the account's public key (SENDGRID_WEBHOOK_PUBLIC_KEY, base64 DER), from the
  X-Twilio-Email-Event-Webhook-Signature and -Timestamp headers.

A signature that fails, a stale timestamp (a replay) or a provider not configured is
refused before anything changes; a well-signed body of events we do not act on is fine.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key
from flask import current_app

from models import BounceKind
from services.core.errors import Forbidden, InvalidInput, NotFound
from services.core.transactions import write_transaction
from services.mail import bounces
from services.mail.bounces import Bounce

REFUSED = "The webhook's signature is not valid."


def _fresh(timestamp: str) -> bool:
    try:
        age = time.time() - int(timestamp)
    except (TypeError, ValueError):
        return False
    return abs(age) <= current_app.config["BOUNCE_WEBHOOK_MAX_AGE_SECONDS"]


def _json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("body", "The body is not JSON.") from None


def _text(value) -> str:
    return " ".join(str(value or "").split())


def mailgun(headers: Mapping[str, str], body: bytes) -> list[Bounce]:
    key = current_app.config["MAILGUN_WEBHOOK_SIGNING_KEY"]
    if not key:
        raise NotFound("This webhook is not set up.")
    payload = _json(body)
    signature = payload.get("signature") if isinstance(payload, dict) else None
    if not isinstance(signature, dict):
        raise Forbidden(REFUSED)
    timestamp, token, given = (str(signature.get(name, "")) for name in ("timestamp", "token", "signature"))
    expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not (hmac.compare_digest(expected, given) and _fresh(timestamp)):
        raise Forbidden(REFUSED)
    event = payload.get("event-data")
    if not isinstance(event, dict) or not isinstance(event.get("recipient"), str):
        return []
    outcome = (str(event.get("event")), str(event.get("severity")) if event.get("event") == "failed" else None)
    kind = {("failed", "permanent"): BounceKind.HARD, ("failed", "temporary"): BounceKind.SOFT,
            ("complained", None): BounceKind.COMPLAINT}.get(outcome)
    if kind is None:
        return []
    status = _object(event.get("delivery-status"))
    message_headers = _object(_object(event.get("message")).get("headers"))
    reason = _text(f"{status.get('code', '')} {status.get('message') or status.get('description') or ''}")
    message_id = message_headers.get("message-id")
    return [Bounce(event["recipient"], kind, "mailgun", reason or str(event.get("event")),
                   f"<{message_id.strip('<>')}>" if isinstance(message_id, str) and message_id else None)]


SENDGRID_SIGNATURE = "x-twilio-email-event-webhook-signature"  # headers arrive lower-cased
SENDGRID_TIMESTAMP = "x-twilio-email-event-webhook-timestamp"


def _sendgrid_kind(event: dict) -> BounceKind | None:
    name = event.get("event")
    if name == "spamreport":
        return BounceKind.COMPLAINT
    if name == "bounce":  # type "bounce": refused for good; "blocked": refused for now
        return BounceKind.SOFT if event.get("type") == "blocked" else BounceKind.HARD
    if name == "deferred":
        return BounceKind.SOFT
    return None


def sendgrid(headers: Mapping[str, str], body: bytes) -> list[Bounce]:
    encoded_key = current_app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"]
    if not encoded_key:
        raise NotFound("This webhook is not set up.")
    timestamp = headers.get(SENDGRID_TIMESTAMP, "")
    try:
        key = load_der_public_key(base64.b64decode(encoded_key))
        signature = base64.b64decode(headers.get(SENDGRID_SIGNATURE, ""), validate=True)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidSignature
        key.verify(signature, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, binascii.Error):
        raise Forbidden(REFUSED) from None
    if not _fresh(timestamp):
        raise Forbidden(REFUSED)
    events = _json(body)
    found = []
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict) or not isinstance(event.get("email"), str):
            continue
        kind = _sendgrid_kind(event)
        if kind is None:
            continue
        reason = _text(f"{event.get('status', '')} {event.get('reason') or event.get('response') or event['event']}")
        message_id = event.get("smtp-id")
        found.append(Bounce(event["email"], kind, "sendgrid", reason,
                            message_id if isinstance(message_id, str) and message_id else None))
    return found


PROVIDERS: dict[str, Callable[[Mapping[str, str], bytes], list[Bounce]]] = {
    "mailgun": mailgun, "sendgrid": sendgrid}


def _object(value: object) -> dict:
    """A JSON object of the payload, or an empty one if the provider sent something else."""
    return value if isinstance(value, dict) else {}


def receive(provider: str, headers: Mapping[str, str], body: bytes) -> int:
    """Check a provider's webhook and record its bounces and complaints; how many."""
    read = PROVIDERS.get(provider)
    if read is None:
        raise NotFound("No such webhook.")
    found = read(headers, body)
    if found:
        with write_transaction() as session:
            for bounce in found:
                bounces.record(session, bounce)
    return len(found)
