"""POST /hooks/bounces/<provider>: Mailgun's HMAC-signed and SendGrid's ECDSA-signed event
webhooks, with keys made here; a bad signature is refused with nothing changed."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from extensions import db
from models import BounceEvent, BounceKind, Subscriber, Subscription, SubscriptionStatus, Suppression, SuppressionReason

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


def mailgun_body(event: dict, *, key: str = MAILGUN_KEY, timestamp: int | None = None) -> bytes:
    timestamp = str(timestamp or int(time.time()))
    token = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return json.dumps({"signature": {"timestamp": timestamp, "token": token, "signature": signature},
                       "event-data": event}).encode()


PERMANENT_FAILURE = {
    "event": "failed", "severity": "permanent", "reason": "bounce", "recipient": "Reader@example.com",
    "timestamp": 1796292902.1, "delivery-status": {
        "code": 550, "message": "5.1.1 The email account that you tried to reach does not exist.",
        "description": "", "attempt-no": 1},
    "message": {"headers": {"message-id": "20261203101502.1.ABC@mg.news.example", "to": "Reader@example.com"}},
}


@pytest.fixture
def reader(app, newsletter):
    subscriber = Subscriber(email="Reader@example.com", full_name="Ada")
    db.session.add(subscriber)
    db.session.flush()
    db.session.add(Subscription(subscriber_id=subscriber.id, list_id=newsletter.id,
                                status=SubscriptionStatus.CONFIRMED))
    db.session.commit()
    return subscriber


def nothing_recorded() -> bool:
    return (db.session.scalar(select(BounceEvent)) is None and db.session.scalar(select(Suppression)) is None
            and db.session.scalar(select(Subscriber.suppressed_at)) is None)


def test_mailgun_permanent_failure_suppresses(app, client, reader):
    app.config["MAILGUN_WEBHOOK_SIGNING_KEY"] = MAILGUN_KEY
    response = client.post("/hooks/bounces/mailgun", data=mailgun_body(PERMANENT_FAILURE),
                           content_type="application/json")
    assert response.status_code == 200 and response.json == {"recorded": 1}
    listed = db.session.scalar(select(Suppression))
    assert (listed.address, listed.reason, listed.created_by) == (
        "reader@example.com", SuppressionReason.HARD_BOUNCE, "mailgun")
    assert "550 5.1.1" in listed.detail
    assert db.session.scalar(select(BounceEvent.message_id)) == "<20261203101502.1.ABC@mg.news.example>"


def test_mailgun_complaint_unsubscribes(app, client, reader):
    app.config["MAILGUN_WEBHOOK_SIGNING_KEY"] = MAILGUN_KEY
    complaint = {"event": "complained", "recipient": "reader@example.com", "message": {"headers": {}}}
    assert client.post("/hooks/bounces/mailgun", data=mailgun_body(complaint),
                       content_type="application/json").status_code == 200
    assert db.session.scalar(select(Subscription.status)) == SubscriptionStatus.UNSUBSCRIBED
    assert db.session.scalar(select(Suppression.reason)) == SuppressionReason.COMPLAINT


@pytest.mark.parametrize("body", [
    mailgun_body(PERMANENT_FAILURE, key="key-someone-elses"),  # signed with another key
    mailgun_body(PERMANENT_FAILURE, timestamp=int(time.time()) - 3600),  # an old one replayed
    json.dumps({"event-data": PERMANENT_FAILURE}).encode(),  # unsigned
    b"[1, 2", b"\xff\xfe", b"{}", b'{"signature": "x"}',
])
def test_mailgun_refuses_a_bad_signature_or_body_and_changes_nothing(app, client, reader, body):
    app.config["MAILGUN_WEBHOOK_SIGNING_KEY"] = MAILGUN_KEY
    response = client.post("/hooks/bounces/mailgun", data=body, content_type="application/json")
    assert response.status_code in (400, 403)
    assert nothing_recorded()


def test_a_provider_not_set_up_or_unknown_is_not_found(app, client, reader):
    assert client.post("/hooks/bounces/mailgun", data=mailgun_body(PERMANENT_FAILURE)).status_code == 404
    assert client.post("/hooks/bounces/nosuch", data=b"{}").status_code == 404
    assert nothing_recorded()


@pytest.fixture
def sendgrid_key(app):
    """A P-256 key pair made here; the app holds the public half, as SendGrid shows it."""
    private = ec.generate_private_key(ec.SECP256R1())
    public_der = private.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = base64.b64encode(public_der).decode()
    return private


def sendgrid_post(client, private_key, events: list, *, tamper: bool = False, timestamp: int | None = None):
    body = json.dumps(events).encode()
    timestamp = str(timestamp or int(time.time()))
    signature = private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    if tamper:
        body = body.replace(b"reader@", b"victim@")
    return client.post("/hooks/bounces/sendgrid", data=body, content_type="application/json", headers={
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp})


SENDGRID_EVENTS = [
    {"email": "reader@example.com", "timestamp": 1796292902, "event": "bounce", "type": "bounce",
     "status": "5.1.1", "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
     "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>", "sg_event_id": "ZGVsaXZlcmVk",
     "sg_message_id": "14c5d75ce93.dfd"},
    {"email": "other@example.com", "timestamp": 1796292903, "event": "deferred",
     "response": "451 4.7.1 Greylisted, try again later", "attempt": "1"},
    {"email": "reader@example.com", "timestamp": 1796292904, "event": "open"},
]


def test_sendgrid_signed_events_are_recorded(app, client, reader, sendgrid_key):
    response = sendgrid_post(client, sendgrid_key, SENDGRID_EVENTS)
    assert response.status_code == 200 and response.json == {"recorded": 2}
    assert db.session.scalar(select(Suppression.address)) == "reader@example.com"
    kinds = dict(db.session.execute(select(BounceEvent.address, BounceEvent.kind)).all())
    assert kinds == {"reader@example.com": BounceKind.HARD, "other@example.com": BounceKind.SOFT}


def test_sendgrid_spam_report_is_a_complaint(app, client, reader, sendgrid_key):
    sendgrid_post(client, sendgrid_key, [{"email": "reader@example.com", "event": "spamreport"}])
    assert db.session.scalar(select(Suppression.reason)) == SuppressionReason.COMPLAINT


@pytest.mark.parametrize("how", ["tampered", "other_key", "stale", "garbage"])
def test_sendgrid_refuses_a_bad_signature_and_changes_nothing(app, client, reader, sendgrid_key, how):
    if how == "tampered":
        response = sendgrid_post(client, sendgrid_key, SENDGRID_EVENTS, tamper=True)
    elif how == "other_key":
        response = sendgrid_post(client, ec.generate_private_key(ec.SECP256R1()), SENDGRID_EVENTS)
    elif how == "stale":
        response = sendgrid_post(client, sendgrid_key, SENDGRID_EVENTS, timestamp=int(time.time()) - 3600)
    else:
        response = client.post("/hooks/bounces/sendgrid", data=b"[]", headers={
            "X-Twilio-Email-Event-Webhook-Signature": "not base64!", "X-Twilio-Email-Event-Webhook-Timestamp": "x"})
    assert response.status_code == 403
    assert nothing_recorded()
