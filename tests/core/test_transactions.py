"""The write transaction every service uses: one at a time, and never carrying a caller's
unsaved changes along unseen."""

import pytest
from sqlalchemy import func, select

from extensions import db
from models import MailingList, Subscriber
from services.core.transactions import write_connection, write_transaction
from services.subscriptions import subscriptions


def subscribers() -> int:
    return db.session.scalar(select(func.count()).select_from(Subscriber))


def test_a_write_inside_another_is_refused_and_the_outer_one_rolls_back(app):
    with pytest.raises(RuntimeError, match="cannot begin inside another"), write_transaction() as session:
        session.add(Subscriber(email="outer@example.com"))
        session.flush()
        with write_connection():
            pass
    db.session.rollback()
    assert subscribers() == 0
    with pytest.raises(RuntimeError, match="cannot begin inside another"), write_connection(), write_transaction():
        pass
    with write_transaction() as session:  # once refused, writes go on as before
        session.add(Subscriber(email="after@example.com"))
    assert subscribers() == 1


def test_unsaved_changes_before_a_write_are_refused_not_committed_with_it(app, newsletter, origin):
    db.session.get(MailingList, newsletter.id).name = "Renamed by a view, never saved"
    with pytest.raises(RuntimeError, match="unsaved changes"):
        subscriptions.subscribe("reader@example.com", "Ada Reader", origin)
    db.session.rollback()
    assert db.session.get(MailingList, newsletter.id).name != "Renamed by a view, never saved"
    assert subscribers() == 0
    subscriptions.subscribe("reader@example.com", "Ada Reader", origin)  # a caller that only read is fine
    assert subscribers() == 1
