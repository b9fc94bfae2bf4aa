"""Outbox page (failed mail, retry, discard) and the audit log page."""

from sqlalchemy import select

from extensions import db
from models import AuditEvent, OutboxStatus
from services.core import audit
from services.core.audit import Actor
from services.core.pagination import DEFAULT_PAGE_SIZE
from services.subscriptions import subscriptions
from tests.support import csrf_token, outbox_rows


def test_failed_mail_shows_its_error_and_retry_sends_it(app, signed_in_client, newsletter, origin,
                                                        smtp_sink, deliver):
    subscriptions.subscribe("bounce@example.com", "", origin)
    app.config.update(MAIL_PORT=1, MAIL_TIMEOUT=1, OUTBOX_MAX_ATTEMPTS=1)
    deliver()
    [failed] = outbox_rows()
    assert failed.status == OutboxStatus.FAILED
    page = signed_in_client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "bounce@example.com" in page and "ConnectionRefusedError" in page

    token = csrf_token(signed_in_client, "/admin/")
    assert signed_in_client.post(f"/admin/outbox/{failed.id}/retry", data={"csrf_token": token}).status_code == 303
    db.session.refresh(failed)
    assert (failed.status, failed.attempts) == (OutboxStatus.QUEUED, 0)
    app.config.update(MAIL_PORT=smtp_sink.port)
    assert deliver(1)[0]["To"] == "bounce@example.com"
    db.session.refresh(failed)
    assert failed.status == OutboxStatus.SENT
    # Sent mail is the worker's business now.
    signed_in_client.post(f"/admin/outbox/{failed.id}/retry", data={"csrf_token": token})
    db.session.refresh(failed)
    assert failed.status == OutboxStatus.SENT
    retry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.retry")).one()
    assert retry.details["status"] == "failed" and retry.actor == "owner@example.com"


def test_discard_removes_the_message_and_is_audited(app, signed_in_client, newsletter, origin):
    subscriptions.subscribe("drop@example.com", "", origin)
    [queued] = outbox_rows()
    token = csrf_token(signed_in_client, "/admin/")
    response = signed_in_client.post(f"/admin/outbox/{queued.id}/discard", data={"csrf_token": token},
                                     follow_redirects=True)
    assert "discarded" in response.get_data(as_text=True)
    assert outbox_rows() == []
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "outbox.discard")).one()
    assert event.target == f"outbox:{queued.id}"
    missing = signed_in_client.post(f"/admin/outbox/{queued.id}/discard", data={"csrf_token": token},
                                    follow_redirects=True)
    assert "No such message" in missing.get_data(as_text=True)


def test_audit_log_is_newest_first_in_keyset_pages(signed_in_client):
    actor = Actor("someone@example.com")
    for n in range(DEFAULT_PAGE_SIZE + 5):
        audit.record(db.session, actor, "test.event", target=f"thing:{n}")
    db.session.commit()
    first = signed_in_client.get("/admin/audit").get_data(as_text=True)
    assert first.index("thing:54") < first.index("thing:53") and "thing:4<" not in first
    after = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = signed_in_client.get(after).get_data(as_text=True)
    assert "thing:4<" in second and "thing:0<" in second and "thing:54" not in second
