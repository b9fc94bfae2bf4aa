"""Reader self-service at /privacy: a mailed link to download or erase one's data."""

import json

import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    AuditEvent,
    Cohort,
    ConsentAction,
    ConsentEvent,
    Enrollment,
    EnrollmentStatus,
    ErasureTombstone,
    Subscriber,
    Subscription,
)
from services.core.audit import Actor
from services.core.tokens import Purpose, make_row_token, make_token
from services.courses import enrollments
from services.mail import opt_in_throttle
from services.privacy import privacy
from services.subscriptions import subscriptions
from services.subscriptions.consent import ConsentOrigin
from tests.courses.test_enrollments import confirm_token, enrol, form
from tests.subscriptions.test_public_views import old_token
from tests.support import csrf_token, link_path, outbox_rows, run_concurrently

STAFF = Actor("owner@example.com")
ADA, ADA_NAME = "ada@example.com", "Ada Lovelace-Reader"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def to(mail) -> str:
    return mail["To"].addresses[0].addr_spec


def every_row() -> dict[str, list[tuple]]:
    db.session.commit()
    with db.engine.connect() as connection:
        return {table.name: sorted(map(tuple, connection.execute(table.select())), key=str)
                for table in db.metadata.sorted_tables}


def text_of_every_table() -> dict[str, str]:
    return {name: " ".join(str(value) for row in rows for value in row).lower()
            for name, rows in every_row().items()}


def request_link(client, email: str, **extra):
    return client.post("/privacy", data={"csrf_token": csrf_token(client, "/privacy"), "email": email, **extra})


def privacy_path(email: str) -> str:
    return f"/privacy/{make_token(Purpose.PRIVACY, {'email': email})}"


def erase(client, path: str, confirm: bool = True):
    data = {"csrf_token": csrf_token(client, "/privacy")} | ({"confirm": "y"} if confirm else {})
    return client.post(f"{path}/erase", data=data)


@pytest.fixture
def reader(newsletter, make_cohort, origin, deliver, smtp_sink, app):
    """Ada: a confirmed subscriber holding the only seat of a cohort, with two people
    waitlisted behind her, and a pending enrolment in a second course."""
    subscriptions.subscribe(ADA, ADA_NAME, origin)
    subscription = db.session.scalars(select(Subscription)).one()
    subscriptions.confirm(make_row_token(Purpose.CONFIRM_SUBSCRIPTION, subscription.id, subscription.link_key), origin)
    full = make_cohort(capacity=1, label="Spring cohort")
    people = [enrol(full, ADA, origin, full_name=ADA_NAME, phone="+44 20 7946 0958", organisation="Ada's Ministry"),
              enrol(full, "next@example.com", origin), enrol(full, "later@example.com", origin)]
    for person in people:
        enrollments.confirm(confirm_token(person), origin)
    # Addresses match whatever their case.
    enrollments.enroll("diplomacy", form(make_cohort(course_slug="diplomacy", label="Autumn cohort"),
                                         "Ada@Example.com", full_name=ADA_NAME), origin)
    deliver()
    smtp_sink.messages.clear()
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0  # her sign-up mails do not hold back the link
    return full


def test_same_answer_for_known_and_unknown_addresses_and_only_known_ones_get_mail(
        app, client, newsletter, make_cohort, origin, deliver, smtp_sink):
    subscriptions.subscribe("subscriber@example.com", "", origin)
    enrol(make_cohort(), "student@example.com", origin)
    deliver(2)
    smtp_sink.messages.clear()
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0

    def answer(email):
        response = request_link(client, email)
        return response.status_code, response.headers["Location"], client.get(response.headers["Location"]).text

    subscriber, student, unknown = (answer(e) for e in ("subscriber@example.com", "Student@Example.com",
                                                         "nobody@example.com"))
    assert subscriber == student == unknown
    assert subscriber[0] == 303 and "Check your inbox" in subscriber[2]

    mails = deliver(2)
    assert sorted(map(to, mails)) == ["student@example.com", "subscriber@example.com"]
    by_recipient = {to(m): m for m in mails}
    for mail in mails:
        assert link_path(mail, "privacy").startswith("/privacy/")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # A subscriber's List-Unsubscribe leaves the newsletter; a student's only stops optional course mail.
    assert "/unsubscribe/" in by_recipient["subscriber@example.com"]["List-Unsubscribe"]
    assert "/enrollments/stop-mail/" in by_recipient["student@example.com"]["List-Unsubscribe"]
    assert {m.category for m in outbox_rows() if "privacy" in m.text_body} == {opt_in_throttle.PRIVACY_LINK}


def test_the_link_arrives_just_after_a_sign_up_and_then_once_a_window_whatever_the_case(
        client, newsletter, origin, deliver):
    subscriptions.subscribe("often@example.com", "", origin)  # the sign-up's window is its own
    for address in ("often@example.com", "Often@example.com", "oFTEN@example.com"):
        assert request_link(client, address).status_code == 303
    mails = deliver(2)
    assert [(to(m), m["Subject"]) for m in mails] == [
        ("often@example.com", "Please confirm your subscription to International Relations Updates"),
        ("often@example.com", "Your data: download or erase it")]
    assert link_path(mails[1], "privacy").startswith("/privacy/")


def test_the_daily_cap_spans_every_purpose_and_every_case(app, client, newsletter, make_cohort, origin):
    app.config.update(OPT_IN_MAIL_MIN_INTERVAL_SECONDS=0, OPT_IN_MAIL_DAILY_LIMIT=3)
    cohort = make_cohort()
    subscriptions.subscribe("capped@example.com", "", origin)
    enrol(cohort, "Capped@example.com", origin)
    request_link(client, "CAPPED@example.com")
    assert [m.category for m in outbox_rows()] == list(opt_in_throttle.THROTTLED)

    subscriptions.subscribe("capped@example.com", "", origin)
    enrol(cohort, "capped@example.com", origin)
    request_link(client, "capped@example.com")
    assert len(outbox_rows()) == 3


def test_honeypot_and_bad_input_send_nothing(client, newsletter, origin):
    subscriptions.subscribe("bot-target@example.com", "", origin)
    before = len(outbox_rows())
    assert request_link(client, "bot-target@example.com", website="x").status_code == 303
    bad = request_link(client, "not-an-address")
    assert bad.status_code == 400 and 'id="email-error"' in bad.text
    assert len(outbox_rows()) == before


def test_request_and_erase_need_a_csrf_token(client, reader, smtp_sink, deliver):
    assert client.post("/privacy", data={"email": ADA}).status_code == 400
    path = privacy_path(ADA)
    before = every_row()
    response = client.post(f"{path}/erase", data={"confirm": "y"})
    assert response.status_code == 400 and "expired" in response.text
    assert every_row() == before
    assert deliver() == []


def test_erase_needs_the_confirmation_box(client, reader):
    path = privacy_path(ADA)
    before = every_row()
    response = erase(client, path, confirm=False)
    assert response.status_code == 400 and "Tick the box" in response.text
    assert every_row() == before


def test_the_mailed_link_shows_both_actions_and_a_get_changes_nothing(client, reader, deliver):
    request_link(client, ADA)
    [mail] = deliver(1)
    path = link_path(mail, "privacy")
    before = every_row()

    page = client.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert f'href="{path}/export.json"' in page.text and f'action="{path}/erase"' in page.text
    assert "International Relations Updates" in page.text and "Spring cohort" in page.text
    assert every_row() == before


def test_the_download_holds_all_four_kinds_of_data_and_nothing_of_other_people(client, reader, deliver):
    subscriptions.subscribe("other@example.com", "Other Person",
                            ConsentOrigin(form="test", ip="198.51.100.7", user_agent="other-agent"))
    request_link(client, ADA)
    [mail] = [m for m in deliver() if to(m) == ADA]
    response = client.get(link_path(mail, "privacy") + "/export.json")

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(response.text)
    assert data["subscriber"]["email"] == ADA and data["subscriber"]["full_name"] == ADA_NAME
    [subscription] = data["subscriptions"]
    assert subscription["list"] == "International Relations Updates" and subscription["status"] == "confirmed"
    assert subscription["confirmed_at"] and subscription["requested_at"]
    assert [(e["course"], e["cohort"], e["status"]) for e in data["enrollments"]] == [
        ("Course ir-certificate", "Spring cohort", "confirmed"), ("Course diplomacy", "Autumn cohort", "pending")]
    assert data["enrollments"][0]["phone"] == "+442079460958"
    actions = [e["action"] for e in data["consent_events"]]
    assert actions.count("subscribe_requested") == 1 and actions.count("confirmed") == 1
    assert actions.count("enroll_requested") == 2 and actions.count("enrollment_confirmed") == 1
    assert {(e["ip"], e["user_agent"]) for e in data["consent_events"]} == {("192.0.2.1", "pytest")}
    assert any(e["wording"] and "confirm your address" in e["wording"] for e in data["consent_events"])
    text = response.text.lower()
    for stranger in ("other@example.com", "other person", "198.51.100.7", "next@example.com", "later@example.com"):
        assert stranger not in text


def test_both_actions_are_audited_without_the_address(client, reader):
    path = privacy_path(ADA)
    client.get(f"{path}/export.json")
    erase(client, path)
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["privacy.export", "subscriber.erase"]
    reader_label = "reader:" + privacy.address_hash(ADA)[:12]
    assert {e.actor for e in events} == {reader_label}
    for event in events:
        stored = f"{event.actor} {event.target} {event.details} {event.ip}".lower()
        assert ADA not in stored and ADA_NAME.lower() not in stored
    assert events[1].details["enrollments_cancelled"] and events[1].details["address_hash"]


@pytest.mark.parametrize("kind", ["tampered", "expired", "wrong-purpose"])
def test_bad_links_get_a_clear_page_and_change_nothing(app, client, reader, kind):
    path = privacy_path(ADA)
    if kind == "tampered":
        path = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    elif kind == "expired":
        path = "/privacy/" + old_token("roster.privacy", {"email": ADA}, 25 * 3600, app.config["SECRET_KEY"])
    else:
        path = "/privacy/" + make_token(Purpose.UNSUBSCRIBE, {"email": ADA})
    token = csrf_token(client, "/privacy")
    before = every_row()
    for response in (client.get(path), client.get(f"{path}/export.json"),
                     client.post(f"{path}/erase", data={"csrf_token": token, "confirm": "y"})):
        assert response.status_code == (410 if kind == "expired" else 400)
        assert "This link does not work" in response.text and "Send me a new link" in response.text
        assert 'action="/privacy"' in response.text
    assert every_row() == before


def test_erasure_removes_the_address_everywhere_and_gives_her_seat_to_the_next_in_line(
        client, reader, deliver, smtp_sink):
    request_link(client, ADA)
    [mail] = deliver(1)
    path = link_path(mail, "privacy")

    response = erase(client, path)
    assert response.status_code == 200 and "Your data is erased" in response.text

    for table, text in text_of_every_table().items():
        for trace in (ADA, ADA_NAME.lower(), "+442079460958", "ada's ministry"):
            assert trace not in text, (table, trace)
    assert count(ErasureTombstone) == 1 and privacy.is_erased(db.session, ADA)
    assert count(Subscriber) == 0
    db.session.expire_all()
    assert [(e.email, e.status, e.waitlist_position) for e in db.session.scalars(
        select(Enrollment).order_by(Enrollment.id))] == [
        ("next@example.com", EnrollmentStatus.CONFIRMED, None),
        ("later@example.com", EnrollmentStatus.WAITLISTED, 1)]
    assert db.session.get(Cohort, reader.id).seats_taken == 1
    erased_events = db.session.scalars(select(ConsentEvent).where(ConsentEvent.action.in_(
        [ConsentAction.ENROLLMENT_CANCELLED, ConsentAction.ERASED]))).all()
    assert sorted(e.action for e in erased_events) == ["enrollment_cancelled", "enrollment_cancelled", "erased"]
    [promoted] = deliver(2)[1:]
    assert to(promoted) == "next@example.com" and "seat" in promoted["Subject"]

    again = erase(client, path)
    assert again.status_code == 200 and "Nothing to erase" in again.text
    assert count(ErasureTombstone) == 1


def test_an_address_with_only_enrolments_can_be_erased(client, make_cohort, origin):
    cohort = make_cohort(capacity=5)
    enrollments.confirm(confirm_token(enrol(cohort, "Student@example.com", origin)), origin)
    response = erase(client, privacy_path("student@example.com"))
    assert "Your data is erased" in response.text
    assert count(Enrollment) == 0 and count(ErasureTombstone) == 1
    assert db.session.get(Cohort, cohort.id).seats_taken == 0
    assert "student@example.com" not in " ".join(text_of_every_table().values())
    audit = db.session.scalars(select(AuditEvent)).one()
    assert (audit.action, audit.target) == ("enrollments.erase", None)


def test_staff_erasure_covers_enrolments_too(reader, deliver):
    ada = db.session.scalar(select(Subscriber.id).where(Subscriber.email == ADA))
    assert privacy.erase(STAFF, [ada]) == 1
    assert ADA not in " ".join(text_of_every_table().values())
    assert count(ErasureTombstone) == 1
    db.session.expire_all()
    assert db.session.scalars(select(Enrollment.email).where(Enrollment.status == EnrollmentStatus.CONFIRMED)
                              ).all() == ["next@example.com"]
    assert [to(m) for m in deliver(1)] == ["next@example.com"]


def test_concurrent_erasures_of_seat_holders_promote_each_waiting_person_once(app, make_cohort, origin):
    cohort = make_cohort(capacity=2)
    for email in ("one@example.com", "two@example.com", "three@example.com", "four@example.com"):
        enrollments.confirm(confirm_token(enrol(cohort, email, origin)), origin)
    results, errors = run_concurrently(app, lambda email: privacy.erase_address(STAFF, email, "test"),
                                       [(email,) for email in ["one@example.com", "two@example.com"] * 3])
    assert errors == [] and sorted(results) == [False] * 4 + [True] * 2
    db.session.expire_all()
    assert [(e.email, e.status) for e in db.session.scalars(select(Enrollment).order_by(Enrollment.id))] == [
        ("three@example.com", EnrollmentStatus.CONFIRMED), ("four@example.com", EnrollmentStatus.CONFIRMED)]
    assert db.session.get(Cohort, cohort.id).seats_taken == 2 and count(ErasureTombstone) == 2
