"""Subscriber export: columns, formula escaping, filters, streaming, memory, audit."""

import csv
import io
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from extensions import db
from models import AuditEvent, Subscriber, Subscription, SubscriptionStatus
from services.core.audit import CLI, Actor
from services.core.csv_safety import escape_formula
from services.core.errors import InvalidInput
from services.data import exports
from services.data.exports import SubscriberFilters, export_subscribers
from services.subscriptions import consent, subscriptions

DANGEROUS_NAMES = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", "\tTabbed", "\rReturned"]


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def export_bytes(filters=None, actor=CLI, **options) -> bytes:
    return b"".join(export_subscribers(filters or SubscriberFilters(), actor, **options))


def add_subscriptions(mailing_list, count: int, *, status=SubscriptionStatus.CONFIRMED, start: int = 0) -> None:
    """Many rows quickly, through Core executemany."""
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with db.engine.begin() as connection:
        connection.execute(insert(Subscriber), [
            {"email": f"reader{n}@example.com", "full_name": f"Reader Number{n}", "created_at": now}
            for n in range(start, start + count)])
        ids = connection.scalars(select(Subscriber.id).where(Subscriber.email.like("reader%"))
                                 .order_by(Subscriber.id)).all()[start:]
        connection.execute(insert(Subscription), [
            {"subscriber_id": subscriber_id, "list_id": mailing_list.id, "status": status,
             "created_at": now, "status_changed_at": now, "requested_at": now, "confirmed_at": now}
            for subscriber_id in ids])
    db.session.rollback()  # end the session's read snapshot so that it sees the new rows


def audit_events() -> list[AuditEvent]:
    db.session.rollback()  # the export audits on its own connection
    return list(db.session.scalars(select(AuditEvent)))


def test_escape_formula_prefixes_every_trigger_and_nothing_else():
    assert [escape_formula(v) for v in DANGEROUS_NAMES] == ["'" + v for v in DANGEROUS_NAMES]
    assert [escape_formula(v) for v in ["Ada", "", None, 5, "a=b", "'quoted"]] == ["Ada", "", None, 5, "a=b", "'quoted"]


def test_export_has_mailchimp_columns_consent_times_and_ips(newsletter, origin):
    subscriptions.subscribe("ada@example.com", "Ada King Lovelace", origin)
    [mail_row] = db.session.scalars(select(Subscription)).all()
    confirm_origin = consent.ConsentOrigin(form="confirm", ip="198.51.100.7")
    token = subscriptions.confirm_url(mail_row.id, mail_row.link_key).rsplit("/", 1)[1]
    subscriptions.confirm(token, confirm_origin)

    data = export_bytes()
    assert data.startswith(b"Email Address,First Name,Last Name,Full Name,List,Status,Source,"
                           b"OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,UNSUB_TIME\r\n")
    [row] = read_csv(data)
    subscription = db.session.scalars(select(Subscription)).one()
    assert row == {
        "Email Address": "ada@example.com", "First Name": "Ada", "Last Name": "King Lovelace",
        "Full Name": "Ada King Lovelace", "List": "International Relations Updates", "Status": "confirmed",
        "Source": "https://news.example/article",
        "OPTIN_TIME": subscription.requested_at.strftime("%Y-%m-%d %H:%M:%S"), "OPTIN_IP": "192.0.2.1",
        "CONFIRM_TIME": subscription.confirmed_at.strftime("%Y-%m-%d %H:%M:%S"), "CONFIRM_IP": "198.51.100.7",
        "UNSUB_TIME": "",
    }


def test_formula_cells_come_out_escaped_and_rfc4180_quoted(newsletter, origin):
    for n, name in enumerate(DANGEROUS_NAMES):
        db.session.add(Subscription(subscriber=Subscriber(email=f"n{n}@example.com", full_name=name),
                                    mailing_list=newsletter, source_url='https://x.example/"q",a'))
    db.session.commit()
    data = export_bytes()
    rows = read_csv(data)
    assert [row["Full Name"] for row in rows] == ["'" + name for name in DANGEROUS_NAMES]
    assert [row["First Name"] for row in rows][:4] == ["'=cmd|'", "'+1", "'-1", "'@SUM(1)"]
    assert b'"https://x.example/""q"",a"' in data
    assert b"\"'\rReturned\"" in data  # a CR inside a cell is quoted, not a line break


def test_filters_by_list_and_status_and_cleaned(newsletter, make_list, origin):
    other = make_list("other")
    subscriptions.subscribe("pending@example.com", "", origin)
    subscriptions.subscribe("other@example.com", "", origin, list_slug="other")
    db.session.add(Subscription(subscriber=Subscriber(email="bounced@example.com",
                                                      suppressed_at=datetime.now(UTC), suppression_reason="cleaned"),
                                mailing_list=other, status=SubscriptionStatus.UNSUBSCRIBED))
    db.session.commit()

    def emails(**filters):
        return [row["Email Address"] for row in read_csv(export_bytes(SubscriberFilters(**filters)))]

    assert emails() == ["pending@example.com", "other@example.com", "bounced@example.com"]
    assert emails(list_slug="other") == ["other@example.com", "bounced@example.com"]
    assert emails(statuses=("cleaned",)) == ["bounced@example.com"]
    assert emails(list_slug="other", statuses=("pending", "unsubscribed")) == ["other@example.com"]
    with pytest.raises(InvalidInput):
        export_subscribers(SubscriberFilters(list_slug="nope"), CLI)
    with pytest.raises(InvalidInput):
        export_subscribers(SubscriberFilters(statuses=("subscribed",)), CLI)


def test_bom_is_optional(newsletter):
    assert export_bytes(bom=True).startswith(b"\xef\xbb\xbfEmail Address")
    assert export_bytes().startswith(b"Email Address")


def test_each_export_is_audited_with_actor_filters_and_rows(newsletter):
    add_subscriptions(newsletter, 3)
    staff = Actor("editor@example.com", ip="203.0.113.9")
    export_bytes(SubscriberFilters(list_slug="updates", statuses=("confirmed",)), staff)
    [event] = audit_events()
    assert (event.actor, event.action, event.target, event.ip) == (
        "editor@example.com", "subscribers.export", "updates", "203.0.113.9")
    assert event.details == {"filters": {"list": "updates", "status": ["confirmed"]}, "rows": 3, "completed": True}


def test_an_abandoned_download_is_audited_as_incomplete(newsletter):
    add_subscriptions(newsletter, 5000)
    stream = export_subscribers(SubscriberFilters(), CLI)
    next(stream), next(stream)
    stream.close()
    [event] = audit_events()
    assert event.details["completed"] is False
    assert 0 < event.details["rows"] < 5000


def test_export_of_100000_streams_in_constant_memory(newsletter):
    add_subscriptions(newsletter, 100_000)
    stream = export_subscribers(SubscriberFilters(), CLI)
    tracemalloc.start()
    try:
        header = next(stream)
        first_rows = next(stream)
        # The first rows are out while most rows have not been read from the database.
        assert header.startswith(b"Email Address") and first_rows.startswith(b"reader0@example.com")
        assert stream.rows_written < 100_000 // 10
        size = len(header) + len(first_rows) + sum(len(chunk) for chunk in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stream.rows_written == 100_000
    assert size > 8_000_000
    assert peak < size / 10, f"peak {peak} bytes for a {size}-byte export"


def test_unsubscribe_time_is_exported_for_unsubscribed_only(newsletter):
    add_subscriptions(newsletter, 1, status=SubscriptionStatus.UNSUBSCRIBED)
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    subscription = db.session.scalars(select(Subscription)).one()
    subscription.unsubscribed_at = moment
    db.session.commit()
    [row] = read_csv(export_bytes())
    assert (row["Status"], row["UNSUB_TIME"]) == ("unsubscribed", "2026-03-04 05:06:07")
    subscription.status = SubscriptionStatus.CONFIRMED
    subscription.confirmed_at = moment + timedelta(days=1)
    db.session.commit()
    [row] = read_csv(export_bytes())
    assert (row["UNSUB_TIME"], row["CONFIRM_TIME"]) == ("", "2026-03-05 05:06:07")


def test_export_filename_is_header_safe():
    name = exports.export_filename(SubscriberFilters(list_slug='a"\r\nX: y', statuses=("confirmed",)))
    assert name.startswith("subscribers-a-X-y-confirmed-") and name.endswith(".csv")


NAMES = st.text(alphabet="aZ ë王=+-@\t\r'\",", max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAMES, min_size=1, max_size=30), list_name=NAMES.filter(str.strip), source=NAMES)
def test_the_database_splits_and_escapes_names_as_python_would(newsletter, names, list_name, source):
    # The export splits names and escapes formulas in SQL; Python's str.partition and
    # escape_formula are the rule, on each database.
    newsletter.name = list_name
    for n, name in enumerate(names):
        db.session.add(Subscription(subscriber=Subscriber(email=f"+n{n}@example.com", full_name=name),
                                    mailing_list=newsletter, source_url=source or None))
    db.session.commit()
    try:
        rows = read_csv(export_bytes())
        expected = []
        for n, name in enumerate(names):
            first, _, last = name.partition(" ")
            expected.append({"Email Address": f"'+n{n}@example.com", "First Name": escape_formula(first),
                             "Last Name": escape_formula(last), "Full Name": escape_formula(name),
                             "List": escape_formula(list_name), "Source": escape_formula(source)})
        assert [{key: row[key] for key in expected[0]} for row in rows] == expected
    finally:
        db.session.execute(delete(Subscription))
        db.session.execute(delete(Subscriber))
        db.session.commit()
