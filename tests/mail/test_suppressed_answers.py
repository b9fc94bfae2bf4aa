"""The public pages answer a suppressed address exactly as any other (nobody learns from
them that an address bounced or complained), and mail none to it."""

import re

from sqlalchemy import select

from extensions import db
from models import BounceKind, Subscription, SubscriptionStatus, Suppression, SuppressionReason
from services.core.transactions import write_transaction
from services.mail import bounces
from services.mail.bounces import Bounce
from services.subscriptions import subscriptions
from tests.support import ARTICLE_ORIGIN, ARTICLE_URL, csrf_token

# Per-request values: CSRF tokens and CSP nonces.
_VARYING = re.compile(r'(value="|nonce-|nonce=")[A-Za-z0-9_.\-+/=]{16,}')


def _same_for_all(text: str, email: str) -> str:
    return _VARYING.sub(r"\1TOKEN", text.replace(email, "ADDRESS"))


def _hosted_form(client, email):
    response = client.post("/subscribe", data={"csrf_token": csrf_token(client), "email": email, "full_name": ""})
    return response.status_code, client.get(response.headers["Location"]).get_data(as_text=True)


def _embed(client, email):
    response = client.post("/embed/subscribe", data={"email": email},
                           headers={"Origin": ARTICLE_ORIGIN, "Referer": ARTICLE_URL})
    return response.status_code, response.get_data(as_text=True)


def _api(client, email):
    response = client.post("/api/v1/subscriptions", json={"email": email}, headers={"Origin": ARTICLE_ORIGIN})
    return response.status_code, response.get_data(as_text=True)


def _privacy(client, email):
    response = client.post("/privacy", data={"csrf_token": csrf_token(client, "/privacy"), "email": email})
    return response.status_code, client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_suppressed_address_gets_the_same_answers_and_no_mail(
        app, client, newsletter, embed_origins, origin, deliver, smtp_sink):
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    for email in ("ordinary@example.com", "bounced@example.com"):
        subscriptions.subscribe(email, "", origin)
    deliver(2)
    smtp_sink.messages.clear()
    for row in db.session.scalars(select(Subscription)):
        row.status = SubscriptionStatus.CONFIRMED
    db.session.commit()
    with write_transaction() as session:
        bounces.record(session, Bounce("bounced@example.com", BounceKind.HARD, "dsn", "550 5.1.1"))
    db.session.add(Suppression(address="listed@example.com", reason=SuppressionReason.STAFF))  # no subscriber
    db.session.commit()

    kinds = {"new": "new@example.com", "ordinary": "ordinary@example.com",
             "suppressed": "bounced@example.com", "listed only": "listed@example.com"}
    for surface in (_hosted_form, _embed, _api, _privacy):
        answers = {kind: surface(client, email) for kind, email in kinds.items()}
        normalised = {kind: (status, _same_for_all(body, kinds[kind])) for kind, (status, body) in answers.items()}
        assert len(set(normalised.values())) == 1, (surface.__name__, normalised)
        assert answers["new"][0] in (200, 202, 303), surface.__name__

    mailed = {mail["To"].addresses[0].addr_spec for mail in deliver()}
    assert mailed == {"new@example.com", "ordinary@example.com"}
