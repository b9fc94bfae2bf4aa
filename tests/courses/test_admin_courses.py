"""Staff console for courses: create and edit courses and cohorts, the enrolments of a
cohort and what staff do with them (seat, override, waitlist, paid, cancel), and
the dashboard's open-cohort panel."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from extensions import db
from models import AuditEvent, Cohort, Course, CourseFormat, EnrollmentStatus
from models.base import utcnow
from services.console import dashboard
from services.core.audit import Actor
from services.core.errors import Closed, Forbidden
from services.courses import enrollment_admin, enrollments
from tests.courses.test_enrollments import cancel_token, fill, statuses
from tests.support import csrf_token, outbox_rows, sign_in

COURSE = {"title": "Diplomacy in Practice", "slug": "diplomacy", "summary": "Six weeks.",
          "description": "Read **widely**.\n\n<script>alert(1)</script>", "format": "in_person",
          "weeks": "6", "fee": "249.50", "currency": "gbp", "contact": "Courses@Example.org", "published": "y"}
COHORT = {"label": "Spring 2031", "starts": "2031-03-03", "ends": "2031-04-11", "opens": "2031-01-10T09:00",
          "closes": "2031-03-01T17:00", "capacity": "12", "timezone": "Europe/London"}


def post(client, path, form):
    data = {**form, "csrf_token": csrf_token(client, "/admin/")}
    return client.post(path, data={k: v for k, v in data.items() if v is not None})


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def reload(cohort: Cohort) -> Cohort:
    db.session.expire_all()
    return db.session.get(Cohort, cohort.id)


def test_staff_create_and_edit_a_course_whose_description_renders_safely(signed_in_client, staff_user):
    response = post(signed_in_client, "/admin/courses/new", COURSE)
    assert response.status_code == 303
    course = db.session.scalars(select(Course)).one()
    assert (course.slug, course.format, course.fee_minor, course.currency, course.contact_email,
            course.is_published) == ("diplomacy", CourseFormat.IN_PERSON, 24950, "GBP", "Courses@example.org", True)
    assert audit_events("course.create")[0].actor == staff_user.email

    page = signed_in_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="249.50"' in page and "<strong>widely</strong>" in page and "<script>" not in page

    response = post(signed_in_client, f"/admin/courses/{course.id}",
                    {**COURSE, "title": "Diplomacy at Work", "fee": "0", "published": None})
    assert response.status_code == 303
    db.session.refresh(course)
    assert (course.title, course.fee_minor, course.is_published) == ("Diplomacy at Work", 0, False)
    [update] = audit_events("course.update")
    assert update.details["changed"] == ["fee_minor", "is_published", "title"]
    assert "Diplomacy at Work" in signed_in_client.get("/admin/courses").get_data(as_text=True)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"slug": "Not A Slug"}, "slug", "lower-case letters"),
    ({"fee": "12.345"}, "fee", "at most 2 decimal places"),
    ({"currency": "ZZZ"}, "currency", "ISO 4217"),
    ({"contact": "nope"}, "contact", "valid email"),
    ({"weeks": "0"}, "weeks", "1 to 104 weeks"),
    ({"weeks": "six"}, "weeks", "integer"),
    ({"title": " "}, "title", "title"),
])
def test_course_form_errors_show_beside_their_field_and_change_nothing(signed_in_client, changes, field,
                                                                       message):
    response = post(signed_in_client, "/admin/courses/new", {**COURSE, **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in html and message in html.split(f'id="{field}-error"')[1].split("</p>")[0]
    assert db.session.scalars(select(Course)).all() == []


def test_a_duplicate_slug_is_refused_beside_the_slug(signed_in_client, make_cohort):
    make_cohort(course_slug="diplomacy")
    response = post(signed_in_client, "/admin/courses/new", COURSE)
    assert response.status_code == 400 and 'id="slug-error"' in response.get_data(as_text=True)
    assert "already exists" in response.get_data(as_text=True)


def test_staff_create_and_edit_a_cohort_in_its_timezone(signed_in_client, make_cohort):
    course = make_cohort().course
    response = post(signed_in_client, f"/admin/courses/{course.id}/cohorts/new", COHORT)
    assert response.status_code == 303
    cohort = db.session.scalar(select(Cohort).where(Cohort.label == "Spring 2031"))
    # 09:00 in London in January is 09:00 UTC; 17:00 on 1 March likewise (no summer time yet).
    assert cohort.enrolment_opens_at == datetime(2031, 1, 10, 9, 0, tzinfo=UTC)
    assert (cohort.capacity, cohort.timezone, cohort.seats_taken) == (12, "Europe/London", 0)
    assert audit_events("cohort.create")

    edit = signed_in_client.get(f"/admin/cohorts/{cohort.id}").get_data(as_text=True)
    assert 'value="2031-01-10T09:00"' in edit
    response = post(signed_in_client, f"/admin/cohorts/{cohort.id}", {**COHORT, "capacity": "", "label": "Late"})
    assert response.status_code == 303
    cohort = reload(cohort)
    assert (cohort.label, cohort.capacity) == ("Late", None)
    assert audit_events("cohort.update")[0].details["changed"] == ["capacity", "label"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"ends": "2031-03-01"}, "ends", "cannot end before it starts"),
    ({"closes": "2031-01-01T09:00"}, "closes", "close after it opens"),
    ({"timezone": "Mars/Olympus"}, "timezone", "IANA timezone"),
    ({"capacity": "0"}, "capacity", "at least 1"),
    ({"label": ""}, "label", "label"),
    ({"starts": "someday"}, "starts", "date"),
])
def test_cohort_form_errors_show_beside_their_field(signed_in_client, make_cohort, changes, field, message):
    course = make_cohort().course
    response = post(signed_in_client, f"/admin/courses/{course.id}/cohorts/new", {**COHORT, **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in html and message in html.split(f'id="{field}-error"')[1].split("</p>")[0]
    assert db.session.scalar(select(Cohort).where(Cohort.label == "Spring 2031")) is None


def test_capacity_stays_above_seats_taken_and_a_raise_seats_the_waitlist(signed_in_client, make_cohort,
                                                                         origin):
    cohort = make_cohort(capacity=2)
    fill(cohort, origin, confirmed=2, waitlisted=2)
    form = {**COHORT, "label": cohort.label, "starts": cohort.starts_on.isoformat(),
            "ends": cohort.ends_on.isoformat(), "opens": "", "closes": "", "timezone": "UTC"}

    low = post(signed_in_client, f"/admin/cohorts/{cohort.id}", {**form, "capacity": "1"})
    assert low.status_code == 400 and "cannot be lower than 2" in low.get_data(as_text=True)
    before = len(outbox_rows())

    assert post(signed_in_client, f"/admin/cohorts/{cohort.id}", {**form, "capacity": "3"}).status_code == 303
    assert [s[1:] for s in statuses(cohort)] == [(EnrollmentStatus.CONFIRMED, None)] * 3 + [
        (EnrollmentStatus.WAITLISTED, 1)]
    assert reload(cohort).seats_taken == 3
    assert [(m.recipient, m.subject.split(":")[0]) for m in outbox_rows()[before:]] == [
        ("p2@example.com", "A seat is yours")]
    assert audit_events("cohort.update")[-1].details["promoted"] == 1


def test_moving_a_seat_to_the_waitlist_gives_it_to_the_first_waiting(signed_in_client, make_cohort, origin,
                                                                     deliver):
    cohort = make_cohort(capacity=1)
    people = fill(cohort, origin, confirmed=1, waitlisted=1)
    before = len(outbox_rows())

    response = post(signed_in_client, f"/admin/enrollments/{people[0].id}/waitlist", {})
    assert response.headers["Location"] == f"/admin/cohorts/{cohort.id}/enrollments"

    assert statuses(cohort) == [("p0@example.com", EnrollmentStatus.WAITLISTED, 1),
                                ("p1@example.com", EnrollmentStatus.CONFIRMED, None)]
    assert reload(cohort).seats_taken == 1
    mails = deliver(before + 2)[before:]
    subjects = {m["To"]: m["Subject"] for m in mails}
    assert subjects["Ada Reader <p1@example.com>"].startswith("A seat is yours")
    moved = next(m for m in mails if "p0@example.com" in m["To"])
    assert "moved your enrolment" in moved.get_body(("plain",)).get_content()
    [event] = audit_events("enrollment.to_waitlist")
    assert event.details["promoted_next"] is True and event.details["waitlist_position"] == 1


def test_a_waitlisted_person_gets_a_free_seat(signed_in_client, make_cohort, origin, deliver):
    cohort = make_cohort(capacity=1)
    [person] = fill(cohort, origin, confirmed=1, waitlisted=0)
    post(signed_in_client, f"/admin/enrollments/{person.id}/waitlist", {})  # nobody waiting: the seat stays free
    assert statuses(cohort) == [("p0@example.com", EnrollmentStatus.WAITLISTED, 1)]
    assert reload(cohort).seats_taken == 0

    post(signed_in_client, f"/admin/enrollments/{person.id}/seat", {})

    assert statuses(cohort) == [("p0@example.com", EnrollmentStatus.CONFIRMED, None)]
    assert reload(cohort).seats_taken == 1
    seat_mail = deliver()[-1]
    assert seat_mail["Subject"].startswith("A seat is yours")
    assert "the course team has given you a seat" in seat_mail.get_body(("plain",)).get_content()
    assert audit_events("enrollment.seat")[0].details["over_capacity"] is False


def test_a_full_cohort_refuses_a_seat_unless_an_owner_overrides_with_a_reason(signed_in_client, make_cohort,
                                                                             origin, staff_user):
    cohort = make_cohort(capacity=1)
    people = fill(cohort, origin, confirmed=1, waitlisted=2)

    refused = post(signed_in_client, f"/admin/enrollments/{people[1].id}/seat", {})
    assert "is full" in signed_in_client.get(refused.headers["Location"]).get_data(as_text=True)
    no_reason = post(signed_in_client, f"/admin/enrollments/{people[1].id}/seat-over-capacity", {"reason": " "})
    assert "Give the reason" in signed_in_client.get(no_reason.headers["Location"]).get_data(as_text=True)
    assert reload(cohort).seats_taken == 1 and audit_events("enrollment.seat") == []

    post(signed_in_client, f"/admin/enrollments/{people[1].id}/seat-over-capacity",
         {"reason": "Speaker's assistant; the room has a spare chair"})

    assert statuses(cohort) == [("p0@example.com", EnrollmentStatus.CONFIRMED, None),
                                ("p1@example.com", EnrollmentStatus.CONFIRMED, None),
                                ("p2@example.com", EnrollmentStatus.WAITLISTED, 1)]
    cohort = reload(cohort)
    assert (cohort.seats_taken, cohort.seats_over_capacity) == (1, 1)
    [event] = audit_events("enrollment.seat")
    assert (event.actor, event.details["over_capacity"], event.details["reason"]) == (
        staff_user.email, True, "Speaker's assistant; the room has a spare chair")
    page = signed_in_client.get(f"/admin/cohorts/{cohort.id}/enrollments").get_data(as_text=True)
    assert "2 / 1" in page and "1 over capacity" in page

    # The first seat freed returns the cohort to capacity; nobody is promoted into it.
    enrollments.cancel(cancel_token(people[0]), origin)
    cohort = reload(cohort)
    assert (cohort.seats_taken, cohort.seats_over_capacity) == (1, 0)
    assert statuses(cohort)[2] == ("p2@example.com", EnrollmentStatus.WAITLISTED, 1)


def test_editors_manage_enrolments_but_only_owners_go_over_capacity(client, make_staff, staff_user, make_cohort,
                                                                    origin):
    editor = make_staff("editor@example.com", role="editor")
    cohort = make_cohort(capacity=1)
    people = fill(cohort, origin, confirmed=1, waitlisted=1)
    sign_in(client, editor.email)

    page = client.get(f"/admin/cohorts/{cohort.id}/enrollments").get_data(as_text=True)
    assert "an owner can seat over capacity" in page and "seat-over-capacity" not in page
    over = post(client, f"/admin/enrollments/{people[1].id}/seat-over-capacity", {"reason": "please"})
    assert over.status_code == 403
    with pytest.raises(Forbidden):
        enrollment_admin.give_seat(Actor(editor.email, editor.id), people[1].id, "please")
    assert post(client, f"/admin/enrollments/{people[0].id}/paid", {"paid": "1"}).status_code == 303
    assert post(client, "/admin/courses/new", COURSE).status_code == 303
    assert reload(cohort).seats_over_capacity == 0
    assert [e.actor for e in audit_events("enrollment.paid")] == [editor.email]


def test_mark_paid_records_when_and_who_and_can_be_withdrawn(signed_in_client, make_cohort, origin, staff_user):
    cohort = make_cohort()
    [person] = fill(cohort, origin, confirmed=1, waitlisted=0)

    post(signed_in_client, f"/admin/enrollments/{person.id}/paid", {"paid": "1"})
    db.session.refresh(person)
    assert person.paid_at > utcnow() - timedelta(minutes=1) and person.paid_by == staff_user.email
    assert f"by {staff_user.email}" in signed_in_client.get(
        f"/admin/cohorts/{cohort.id}/enrollments").get_data(as_text=True)
    with pytest.raises(Closed, match="already marked paid"):
        enrollment_admin.set_paid(Actor("test"), person.id, True)

    post(signed_in_client, f"/admin/enrollments/{person.id}/paid", {"paid": "0"})
    db.session.refresh(person)
    assert (person.paid_at, person.paid_by) == (None, None)
    assert [e.action for e in audit_events("enrollment.paid") + audit_events("enrollment.unpaid")] == [
        "enrollment.paid", "enrollment.unpaid"]


def test_staff_cancel_frees_the_seat_promotes_the_next_and_mails_both(signed_in_client, make_cohort, origin,
                                                                      deliver):
    cohort = make_cohort(capacity=1)
    people = fill(cohort, origin, confirmed=1, waitlisted=2)
    before = len(deliver(len(outbox_rows())))

    post(signed_in_client, f"/admin/enrollments/{people[0].id}/cancel", {})

    assert statuses(cohort) == [("p0@example.com", EnrollmentStatus.CANCELLED, None),
                                ("p1@example.com", EnrollmentStatus.CONFIRMED, None),
                                ("p2@example.com", EnrollmentStatus.WAITLISTED, 1)]
    mails = deliver(before + 2)[before:]
    assert sorted((m["To"].split("<")[1].rstrip(">"), m["Subject"].split(":")[0]) for m in mails) == [
        ("p0@example.com", f"Your enrolment in {cohort.course.title} is cancelled"),
        ("p1@example.com", "A seat is yours")]
    [promoted] = [m for m in mails if "p1@example.com" in m["To"]]
    assert [a.get_content_type() for a in promoted.iter_attachments()] == ["text/calendar"]
    assert audit_events("enrollment.cancel")[0].details["previous_status"] == "confirmed"
    again = post(signed_in_client, f"/admin/enrollments/{people[0].id}/cancel", {})
    assert "already cancelled" in signed_in_client.get(again.headers["Location"]).get_data(as_text=True)


def test_the_enrolments_page_lists_everyone_with_their_place(signed_in_client, make_cohort, origin):
    cohort = make_cohort(capacity=1)
    fill(cohort, origin, confirmed=1, waitlisted=1)
    html = signed_in_client.get(f"/admin/cohorts/{cohort.id}/enrollments").get_data(as_text=True)
    assert html.index("p0@example.com") < html.index("p1@example.com")
    assert "Move to waitlist" in html and "Give a seat over capacity" in html and "Mark paid" in html
    assert html.count('name="csrf_token"') >= 6
    assert signed_in_client.get("/admin/cohorts/999999/enrollments").status_code == 404


def test_dashboard_shows_each_open_cohort_with_seats_and_waitlist(signed_in_client, make_cohort, origin):
    full = make_cohort(capacity=2, label="Full one")
    fill(full, origin, confirmed=2, waitlisted=1)
    make_cohort(capacity=None, label="Unlimited one", course_slug="other")
    make_cohort(label="Not yet open", opened_days_ago=-5)
    make_cohort(label="Started", starts_in_days=-1, opened_days_ago=20, closes_in_days=-2)

    figures = {s.cohort.label: (s.seats_taken, s.cohort.capacity, s.waitlisted)
               for s in dashboard.open_cohorts(db.session)}
    assert figures == {"Full one": (2, 2, 1), "Unlimited one": (0, None, 0), "Not yet open": (0, 10, 0)}
    html = signed_in_client.get("/admin/").get_data(as_text=True)
    panel = html.split("<h2>Open cohorts</h2>")[1].split("</section>")[0]
    assert "Full one" in panel and "2 / 2" in panel and "0 / unlimited" in panel and "Started" not in panel
