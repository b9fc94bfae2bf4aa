"""Every exported cell is formula-safe, the IP columns included, and a client IP that
is not an IP address is never recorded."""

import csv
import io

from click.testing import CliRunner
from sqlalchemy import select

from app import create_app
from extensions import db
from models import ConsentAction, ConsentEvent
from services.core.csv_safety import FORMULA_TRIGGERS
from services.subscriptions import subscriptions
from tests.courses.test_enrollments import enrol
from tests.support import csrf_token

FORMULA = "=cmd|' /C calc'!A0"


def rows_of(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def forged_ip_events(origin, newsletter) -> None:
    """A confirmed subscription whose consent events hold a formula for an IP, inserted
    directly, as a row recorded before the IP was checked could."""
    subscriptions.subscribe("ada@example.com", "Ada Reader", origin)
    subscriber_id = db.session.scalar(select(ConsentEvent.subscriber_id))
    db.session.add(ConsentEvent(subscriber_id=subscriber_id, list_id=newsletter.id, action=ConsentAction.CONFIRMED,
                                form="test", ip=FORMULA))
    db.session.execute(ConsentEvent.__table__.update().values(ip=FORMULA))
    db.session.commit()


def assert_ips_escaped(data: bytes) -> None:
    [row] = rows_of(data)
    assert row["OPTIN_IP"] == "'" + FORMULA and row["CONFIRM_IP"] == "'" + FORMULA
    assert row["Email Address"] == "ada@example.com"  # the rest of the row as it was


def test_subscriber_export_escapes_the_ip_columns_from_the_cli(app, newsletter, origin, tmp_path):
    forged_ip_events(origin, newsletter)
    output = tmp_path / "subscribers.csv"
    result = CliRunner().invoke(app.cli, ["subscribers", "export", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert_ips_escaped(output.read_bytes())


def test_subscriber_export_escapes_the_ip_columns_in_the_console(signed_in_client, newsletter, origin):
    forged_ip_events(origin, newsletter)
    assert_ips_escaped(signed_in_client.get("/admin/subscribers/export.csv").get_data())


def test_enrolment_export_escapes_every_cell(signed_in_client, make_cohort, origin):
    cohort = make_cohort()
    enrollment = enrol(cohort, origin=origin, organisation=FORMULA)
    db.session.execute(ConsentEvent.__table__.update().values(ip=FORMULA, enrollment_id=enrollment.id))
    db.session.commit()
    [row] = rows_of(signed_in_client.get(f"/admin/enrollments/export.csv?cohort={cohort.id}").get_data())
    assert row["Organisation"] == "'" + FORMULA
    assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in row.values())


def test_a_forwarded_for_that_is_not_an_ip_is_not_recorded(app, newsletter):
    proxied = create_app({**app.config, "APP_ENV": "testing", "TRUSTED_PROXY_COUNT": 1}).test_client()
    for forwarded_for, email in ((FORMULA, "forged@example.com"), ("203.0.113.9", "real@example.com")):
        proxied.post("/subscribe", headers={"X-Forwarded-For": forwarded_for},
                     data={"csrf_token": csrf_token(proxied), "email": email})
    db.session.rollback()
    recorded = set(db.session.scalars(select(ConsentEvent.ip)))
    assert recorded == {None, "203.0.113.9"}
