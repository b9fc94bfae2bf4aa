"""The enrolment service: double opt-in, seats under concurrency, waitlist, cancel, mails."""


import icalendar
import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    Cohort,
    ConsentAction,
    ConsentEvent,
    Enrollment,
    EnrollmentStatus,
    OutboxMessage,
    Subscription,
    SubscriptionStatus,
)
from models.base import utcnow
from services.core.errors import Closed, InvalidInput, InvalidToken
from services.core.tokens import Purpose, make_row_token
from services.courses import enrollments
from services.courses.enrollment_details import EnrollmentInput
from services.mail import opt_in_throttle
from tests.support import link_path, outbox_rows, run_concurrently


def form(cohort: Cohort, email: str = "ada@example.com", **fields) -> EnrollmentInput:
    values = {"full_name": "Ada Reader", **fields}
    return EnrollmentInput(cohort=str(cohort.id), email=email, **values)


def enrol(cohort: Cohort, email: str = "ada@example.com", origin=None, **fields) -> Enrollment:
    enrollments.enroll(cohort.course.slug, form(cohort, email, **fields), origin)
    return db.session.scalars(select(Enrollment).where(func.lower(Enrollment.email) == email.lower())).one()


def token(mail, kind: str) -> str:
    return link_path(mail, f"enrollments/{kind}").rsplit("/", 1)[1]


def confirm_token(enrollment: Enrollment) -> str:
    return make_row_token(Purpose.CONFIRM_ENROLLMENT, enrollment.id, enrollment.link_key)


def cancel_token(enrollment: Enrollment) -> str:
    return make_row_token(Purpose.CANCEL_ENROLLMENT, enrollment.id, enrollment.link_key)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def statuses(cohort: Cohort) -> list[tuple[str, EnrollmentStatus, int | None]]:
    db.session.expire_all()
    return [(e.email, e.status, e.waitlist_position) for e in db.session.scalars(
        select(Enrollment).where(Enrollment.cohort_id == cohort.id).order_by(Enrollment.id))]


def fill(cohort: Cohort, origin, confirmed: int, waitlisted: int) -> list[Enrollment]:
    people = []
    for n in range(confirmed + waitlisted):
        person = enrol(cohort, f"p{n}@example.com", origin)
        enrollments.confirm(confirm_token(person), origin)
        people.append(person)
    db.session.expire_all()
    return people


def test_enrol_stores_a_pending_request_with_consent_and_a_confirmation_mail(make_cohort, origin, deliver):
    cohort = make_cohort()
    enrollment = enrol(cohort, "Ada@Example.COM", origin, phone="+44 20 7946 0958", country="gb",
                       organisation=" Ministry ", note="Line one\r\nLine two")

    assert (enrollment.email, enrollment.status, enrollment.phone, enrollment.country) == (
        "Ada@example.com", EnrollmentStatus.PENDING, "+442079460958", "GB")
    assert (enrollment.organisation, enrollment.note) == ("Ministry", "Line one\nLine two")
    event = db.session.scalars(select(ConsentEvent)).one()
    assert (event.action, event.enrollment_id, event.ip) == (ConsentAction.ENROLL_REQUESTED, enrollment.id,
                                                             "192.0.2.1")
    [row] = outbox_rows()
    assert row.category == opt_in_throttle.COURSE_OPT_IN
    [mail] = deliver(1)
    assert "Please confirm your enrolment" in mail["Subject"]
    assert token(mail, "confirm") and token(mail, "cancel")
    assert "/enrollments/stop-mail/" in mail["List-Unsubscribe"]
    assert cohort.seats_taken == 0


def test_confirm_takes_a_seat_and_mails_an_ics_for_the_cohort_start(make_cohort, origin, deliver):
    cohort = make_cohort(capacity=2)
    enrol(cohort, origin=origin)
    [request_mail] = deliver(1)

    outcome = enrollments.confirm(token(request_mail, "confirm"), origin)

    assert (outcome.status, outcome.unchanged) == (EnrollmentStatus.CONFIRMED, False)
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).seats_taken == 1
    confirmed_mail = deliver(2)[1]
    assert "You're enrolled" in confirmed_mail["Subject"]
    text = confirmed_mail.get_body(("plain",)).get_content()
    assert cohort.course.contact_email in text and "What happens next" in text
    [attachment] = list(confirmed_mail.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == cohort.starts_on
    # The link did its work; using it again changes nothing and sends nothing.
    assert enrollments.confirm(token(request_mail, "confirm"), origin).unchanged is True
    assert len(outbox_rows()) == 2


def confirm_concurrently(app, tokens: list[str], origin) -> list[Exception]:
    return run_concurrently(app, lambda link_token: enrollments.confirm(link_token, origin),
                            [(t,) for t in tokens])[1]


def test_forty_concurrent_confirmations_fill_ten_seats_and_queue_thirty_in_arrival_order(app, make_cohort,
                                                                                         origin):
    cohort = make_cohort(capacity=10)
    people = [enrol(cohort, f"racer{n}@example.com", origin) for n in range(40)]
    db.session.query(OutboxMessage).delete()
    db.session.commit()

    assert confirm_concurrently(app, [confirm_token(p) for p in people], origin) == []

    db.session.expire_all()
    rows = db.session.scalars(select(Enrollment).order_by(Enrollment.confirmed_at, Enrollment.id)).all()
    confirmed = [r for r in rows if r.status == EnrollmentStatus.CONFIRMED]
    waitlisted = [r for r in rows if r.status == EnrollmentStatus.WAITLISTED]
    assert (len(confirmed), len(waitlisted)) == (10, 30)
    assert db.session.get(Cohort, cohort.id).seats_taken == len(confirmed)
    # Arrival order: the first ten to confirm got the seats; the queue follows confirmation order.
    assert rows[:10] == confirmed
    assert [r.waitlist_position for r in rows[10:]] == list(range(1, 31))
    subjects = [m.subject for m in outbox_rows()]
    assert sum("enrolled" in s for s in subjects) == 10 and sum("waitlist" in s for s in subjects) == 30


def test_cancelling_a_seat_promotes_the_first_waitlisted_and_mails_them(make_cohort, origin, deliver):
    cohort = make_cohort(capacity=2)
    people = fill(cohort, origin, confirmed=2, waitlisted=3)
    before = len(outbox_rows())

    outcome = enrollments.cancel(cancel_token(people[0]), origin)

    assert outcome.status == EnrollmentStatus.CANCELLED
    assert statuses(cohort) == [
        ("p0@example.com", EnrollmentStatus.CANCELLED, None),
        ("p1@example.com", EnrollmentStatus.CONFIRMED, None),
        ("p2@example.com", EnrollmentStatus.CONFIRMED, None),
        ("p3@example.com", EnrollmentStatus.WAITLISTED, 1),
        ("p4@example.com", EnrollmentStatus.WAITLISTED, 2),
    ]
    assert db.session.get(Cohort, cohort.id).seats_taken == 2
    new_mails = outbox_rows()[before:]
    assert {(m.recipient, m.subject.split(":")[0]) for m in new_mails} == {
        ("p0@example.com", f"Your enrolment in {cohort.course.title} is cancelled"),
        ("p2@example.com", "A seat is yours"),
    }
    promoted = next(m for m in deliver(before + 2) if "p2@example.com" in m["To"] and "seat" in m["Subject"])
    [invite] = list(promoted.iter_attachments())
    assert icalendar.Calendar.from_ical(invite.get_content()).walk("VEVENT")[0].decoded("DTSTART") == \
        cohort.starts_on
    actions = db.session.scalars(select(ConsentEvent.action).where(
        ConsentEvent.enrollment_id == people[0].id).order_by(ConsentEvent.id)).all()
    assert actions[-1] == ConsentAction.ENROLLMENT_CANCELLED


def test_cancelling_a_waitlisted_place_renumbers_the_queue(make_cohort, origin):
    cohort = make_cohort(capacity=1)
    people = fill(cohort, origin, confirmed=1, waitlisted=3)

    enrollments.cancel(cancel_token(people[2]), origin)

    assert statuses(cohort) == [
        ("p0@example.com", EnrollmentStatus.CONFIRMED, None),
        ("p1@example.com", EnrollmentStatus.WAITLISTED, 1),
        ("p2@example.com", EnrollmentStatus.CANCELLED, None),
        ("p3@example.com", EnrollmentStatus.WAITLISTED, 2),
    ]
    assert db.session.get(Cohort, cohort.id).seats_taken == 1
    # Cancelling twice is harmless and sends nothing more.
    mails = len(outbox_rows())
    assert enrollments.cancel(cancel_token(people[2]), origin).unchanged is True
    assert len(outbox_rows()) == mails


def test_a_confirm_link_from_before_a_cancellation_no_longer_works(app, make_cohort, origin):
    cohort = make_cohort()
    person = enrol(cohort, origin=origin)
    old_link = confirm_token(person)
    enrollments.cancel(cancel_token(person), origin)
    with pytest.raises(InvalidToken):
        enrollments.confirm(old_link, origin)

    # Enrolling again renews the same row; the old link still cannot confirm it.
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    db.session.get(Enrollment, person.id).cancelled_at = utcnow().replace(year=utcnow().year + 1)
    db.session.commit()
    enrol(cohort, origin=origin)
    with pytest.raises(InvalidToken):
        enrollments.confirm(old_link, origin)
    assert count(Enrollment) == 1


def test_duplicate_enrolment_makes_one_row_and_an_already_enrolled_mail(app, make_cohort, origin, deliver):
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    cohort = make_cohort()
    first = enrol(cohort, "twice@example.com", origin)
    enrollments.confirm(confirm_token(first), origin)

    enrol(cohort, "TWICE@example.com", origin, full_name="Someone Else", phone="+33 1 42 68 53 00")

    assert count(Enrollment) == 1
    kept = db.session.scalars(select(Enrollment)).one()
    assert (kept.full_name, kept.phone, kept.status) == ("Ada Reader", None, EnrollmentStatus.CONFIRMED)
    assert "already enrolled" in deliver(3)[2]["Subject"]


def test_concurrent_duplicate_enrolments_make_one_row(app, make_cohort, origin):
    cohort = make_cohort()
    slug, same_form = cohort.course.slug, form(cohort, "same@example.com")
    _, errors = run_concurrently(app, lambda: enrollments.enroll(slug, same_form, origin), 10)
    assert errors == []
    assert count(Enrollment) == 1
    assert len(outbox_rows()) == 1


@pytest.mark.parametrize(("cohort_args", "message"), [
    ({"closes_in_days": -1, "opened_days_ago": 10}, "has closed"),
    ({"starts_in_days": -3, "opened_days_ago": 30}, "has already started"),
    ({"opened_days_ago": -2}, "opens on"),
], ids=["window-closed", "started", "not-yet-open"])
def test_enrolment_outside_the_window_is_refused_and_nothing_is_stored(make_cohort, origin, cohort_args, message):
    cohort = make_cohort(**cohort_args)
    with pytest.raises(InvalidInput) as raised:
        enrollments.enroll(cohort.course.slug, form(cohort, newsletter=True), origin)
    assert raised.value.field == "cohort" and message in raised.value.message
    assert (count(Enrollment), count(OutboxMessage), count(ConsentEvent), count(Subscription)) == (0, 0, 0, 0)


def test_confirming_after_the_cohort_started_is_refused(make_cohort, origin):
    cohort = make_cohort()
    person = enrol(cohort, origin=origin)
    cohort = db.session.get(Cohort, cohort.id)
    cohort.starts_on = utcnow().date()
    db.session.commit()
    with pytest.raises(Closed):
        enrollments.confirm(confirm_token(person), origin)
    assert db.session.get(Enrollment, person.id).status == EnrollmentStatus.PENDING


def test_unlimited_cohorts_confirm_everyone(make_cohort, origin):
    cohort = make_cohort(capacity=None)
    fill(cohort, origin, confirmed=3, waitlisted=0)
    assert {status for _, status, _ in statuses(cohort)} == {EnrollmentStatus.CONFIRMED}
    assert db.session.get(Cohort, cohort.id).seats_taken == 3


def test_ticking_newsletter_starts_its_own_double_opt_in(newsletter, make_cohort, origin, deliver):
    cohort = make_cohort()
    enrol(cohort, "news@example.com", origin, newsletter=True)
    enrol(cohort, "nonews@example.com", origin, newsletter=False)

    subscription = db.session.scalars(select(Subscription)).one()
    assert (subscription.subscriber.email, subscription.status) == ("news@example.com", SubscriptionStatus.PENDING)
    subjects = sorted((m["To"], m["Subject"].split(" ")[3]) for m in deliver(3))
    assert subjects == [("Ada Reader <news@example.com>", "enrolment"),
                        ("Ada Reader <news@example.com>", "subscription"),
                        ("Ada Reader <nonews@example.com>", "enrolment")]
    wording = db.session.scalars(select(ConsentEvent.wording_version).where(ConsentEvent.list_id.is_not(None))).one()
    assert wording == "enroll-newsletter-v1"


def test_a_failing_newsletter_sign_up_leaves_the_enrolment_whole(make_cohort, origin):
    cohort = make_cohort()  # no mailing list exists, so the newsletter sign-up fails
    enrollment = enrol(cohort, origin=origin, newsletter=True)
    assert enrollment.status == EnrollmentStatus.PENDING
    assert [m.category for m in outbox_rows()] == [opt_in_throttle.COURSE_OPT_IN]
    assert count(Subscription) == 0


def test_list_unsubscribe_stops_optional_mail_but_keeps_the_place(app, make_cohort, origin, deliver):
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    cohort = make_cohort()
    person = enrol(cohort, origin=origin)
    enrollments.confirm(confirm_token(person), origin)
    stop_token = deliver(2)[1]["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]

    assert enrollments.stop_optional_mail(stop_token, origin).status == EnrollmentStatus.CONFIRMED
    assert enrollments.stop_optional_mail(stop_token, origin).unchanged is True

    assert db.session.get(Enrollment, person.id).status == EnrollmentStatus.CONFIRMED
    assert db.session.get(Cohort, cohort.id).seats_taken == 1
    assert db.session.scalars(select(ConsentEvent.action).order_by(ConsentEvent.id)).all()[-1] == \
        ConsentAction.COURSE_MAIL_STOPPED
    enrol(cohort, origin=origin)  # would have caused an "already enrolled" mail
    assert len(outbox_rows()) == 2


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"phone": "12345"}, "phone", "international format"),
    ({"phone": "+44 20 7946 09"}, "phone", "valid phone number"),
    ({"phone": "+" + "1" * 40}, "phone", "at most 32"),
    ({"country": "XX"}, "country", "from the list"),
    ({"country": "Narnia"}, "country", "from the list"),
    ({"full_name": ""}, "full_name", "Enter your full name"),
    ({"full_name": "n" * 201}, "full_name", "at most 200"),
    ({"organisation": "o" * 201}, "organisation", "at most 200"),
    ({"note": "n" * 2001}, "note", "at most 2000"),
    ({"note": "bell\x07"}, "note", "not allowed"),
    ({"email": "not-an-address"}, "email", "valid email"),
    ({"cohort": "abc"}, "cohort", "Choose one of the dates"),
    ({"cohort": "99999"}, "cohort", "Choose one of the dates"),
])
def test_bad_input_is_refused_and_nothing_is_stored(newsletter, make_cohort, origin, fields, field, message):
    cohort = make_cohort()
    values = {"cohort": str(cohort.id), "email": "ada@example.com", "full_name": "Ada", "newsletter": True, **fields}
    with pytest.raises(InvalidInput) as raised:
        enrollments.enroll(cohort.course.slug, EnrollmentInput(**values), origin)
    assert raised.value.field == field and message in raised.value.message
    assert (count(Enrollment), count(OutboxMessage), count(Subscription)) == (0, 0, 0)


def test_the_service_refuses_every_bad_field_of_one_request_together(make_cohort, origin):
    cohort = make_cohort()
    values = EnrollmentInput(cohort="abc", full_name="", email="not-an-address", country="XX")
    with pytest.raises(InvalidInput) as raised:
        enrollments.enroll(cohort.course.slug, values, origin)
    assert [refusal.field for refusal in raised.value.errors] == ["full_name", "email", "country", "cohort"]
    assert count(Enrollment) == 0


def test_a_cohort_of_another_course_is_refused(make_cohort, origin):
    mine = make_cohort(course_slug="mine")
    other = make_cohort(course_slug="other")
    with pytest.raises(InvalidInput) as raised:
        enrollments.enroll(mine.course.slug, form(other), origin)
    assert raised.value.field == "cohort"
    assert count(Enrollment) == 0


def test_a_note_of_exactly_two_thousand_characters_with_line_breaks_is_accepted(make_cohort, origin):
    note = ("x" * 99 + "\r\n") * 20  # 2,000 characters once line endings are normalised
    enrollment = enrol(make_cohort(), origin=origin, note=note)
    assert len(enrollment.note) == 1999  # trailing newline stripped


def test_addresses_differing_in_case_get_one_enrolment_mail_a_window(make_cohort, origin):
    spring, autumn = make_cohort(label="Spring"), make_cohort(label="Autumn")
    for cohort, address in ((spring, "bomb@example.com"), (spring, "Bomb@example.com"), (autumn, "bOmb@example.com")):
        enrollments.enroll(cohort.course.slug, form(cohort, address), origin)
    assert [(m.recipient, m.category) for m in outbox_rows()] == [("bomb@example.com", opt_in_throttle.COURSE_OPT_IN)]
