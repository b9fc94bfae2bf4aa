"""Erasure: personal data goes, proof of consent stays anonymous, a tombstone remains."""

import pytest
from sqlalchemy import event, func, select

from extensions import db
from models import (
    AuditEvent,
    ConsentAction,
    ConsentEvent,
    ErasureTombstone,
    OutboxMessage,
    Subscriber,
    Subscription,
)
from services.core.audit import Actor
from services.privacy import privacy
from services.subscriptions import subscriptions
from tests.support import csrf_token

STAFF = Actor("owner@example.com")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def subscriber_id(email: str) -> int:
    return db.session.scalar(select(Subscriber.id).where(Subscriber.email == email))


def test_erase_removes_personal_data_and_keeps_anonymous_proof(app, newsletter, origin):
    subscriptions.subscribe("gone@example.com", "Gone Person", origin)
    subscriptions.subscribe("kept@example.com", "Kept Person", origin)
    gone = subscriber_id("gone@example.com")

    assert privacy.erase(STAFF, [gone]) == 1

    assert db.session.scalars(select(Subscriber.email)).all() == ["kept@example.com"]
    assert count(Subscription) == 1
    assert db.session.scalars(select(OutboxMessage.recipient)).all() == ["kept@example.com"]
    anonymous = db.session.scalars(select(ConsentEvent).where(ConsentEvent.subscriber_id.is_(None))
                                   .order_by(ConsentEvent.id)).all()
    assert [e.action for e in anonymous] == [ConsentAction.SUBSCRIBE_REQUESTED, ConsentAction.ERASED]
    assert all(e.ip is None and e.user_agent is None for e in anonymous)
    assert anonymous[0].wording_version == "subscribe-v1" and anonymous[0].occurred_at is not None
    assert privacy.is_erased(db.session, "GONE@example.com")
    assert not privacy.is_erased(db.session, "kept@example.com")
    audit = db.session.scalars(select(AuditEvent)).one()
    assert (audit.action, audit.actor, audit.target) == ("subscriber.erase", STAFF.label, f"subscriber:{gone}")
    assert "gone@example.com" not in str(audit.details) and audit.details["address_hash"]


def test_erasing_an_address_again_keeps_one_tombstone(app, newsletter, origin):
    subscriptions.subscribe("twice@example.com", "", origin)
    privacy.erase(STAFF, [subscriber_id("twice@example.com")])
    subscriptions.subscribe("twice@example.com", "", origin)  # they came back on their own
    privacy.erase(STAFF, [subscriber_id("twice@example.com")])
    assert count(ErasureTombstone) == 1 and count(Subscriber) == 0


def test_no_trace_of_the_address_is_left_in_any_table(app, newsletter, origin):
    subscriptions.subscribe("trace@example.com", "Trace Name", origin)
    privacy.erase(STAFF, [subscriber_id("trace@example.com")])
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                text = " ".join(str(value) for value in row)
                assert "trace@example.com" not in text.lower() and "Trace Name" not in text, table.name


def test_erase_from_the_subscriber_page_needs_the_confirmation_box(signed_in_client, newsletter, origin):
    subscriptions.subscribe("page@example.com", "", origin)
    target = subscriber_id("page@example.com")
    token = csrf_token(signed_in_client, "/admin/")
    unconfirmed = signed_in_client.post(f"/admin/subscribers/{target}/erase", data={"csrf_token": token})
    assert unconfirmed.status_code == 303 and count(Subscriber) == 1
    confirmed = signed_in_client.post(f"/admin/subscribers/{target}/erase",
                                      data={"csrf_token": token, "confirm_erase": "yes"})
    assert confirmed.headers["Location"] == "/admin/subscribers"
    assert count(Subscriber) == 0 and count(ErasureTombstone) == 1
    assert signed_in_client.get(f"/admin/subscribers/{target}").status_code == 404


def test_erasure_is_one_transaction(app, newsletter, origin):
    subscriptions.subscribe("atomic@example.com", "", origin)
    target = subscriber_id("atomic@example.com")

    def fail_on_tombstone(conn, cursor, statement, parameters, context, executemany):
        if "erasure_tombstones" in statement and statement.lstrip().upper().startswith("INSERT"):
            raise RuntimeError("disk full")

    event.listen(db.engine, "before_cursor_execute", fail_on_tombstone)
    try:
        with pytest.raises(RuntimeError):
            privacy.erase(STAFF, [target])
    finally:
        event.remove(db.engine, "before_cursor_execute", fail_on_tombstone)
    assert count(Subscriber) == 1 and count(Subscription) == 1
    assert db.session.scalar(select(ConsentEvent.ip)) == "192.0.2.1"
