"""Catalogue pages, the enrolment form and the links in enrolment mails, through the test client."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Cohort, ConsentEvent, Course, Enrollment, EnrollmentStatus, OutboxMessage, Subscription
from models.base import utcnow
from tests.support import csrf_token, link_path, outbox_rows


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def enroll_path(cohort: Cohort) -> str:
    return f"/courses/{cohort.course.slug}/enroll"


def post_enroll(client, course_cohort: Cohort, email="ada@example.com", **fields):
    path = enroll_path(course_cohort)
    data = {"csrf_token": csrf_token(client, path), "cohort": str(course_cohort.id), "full_name": "Ada Reader",
            "email": email, **fields}
    return client.post(path, data=data)


def only_enrollment() -> Enrollment:
    db.session.expire_all()
    return db.session.scalars(select(Enrollment)).one()


def test_course_list_shows_published_courses_with_next_cohort_fee_and_seats(client, make_cohort):
    make_cohort(capacity=30, seats_taken=4, course_slug="open-course")
    make_cohort(capacity=5, seats_taken=5, course_slug="full-course")
    make_cohort(closes_in_days=-1, opened_days_ago=5, course_slug="closed-course")
    hidden = make_cohort(course_slug="draft-course").course
    hidden.is_published = False
    db.session.commit()

    page = client.get("/courses").get_data(as_text=True)

    assert "Course open-course" in page and "26 seats left" in page and "€249.00" in page
    assert "Course full-course" in page and "Waitlist open" in page
    assert "Course closed-course" in page and "Enrolment closed" in page
    assert "draft-course" not in page


def test_course_page_shows_safe_markdown_and_every_open_cohort(client, make_cohort):
    first = make_cohort(starts_in_days=20, label="Winter run")
    make_cohort(starts_in_days=60, label="Spring run")
    make_cohort(starts_in_days=-10, opened_days_ago=40, label="Old run")
    course = first.course
    course.description = "A **bold** plan.\n\n<script>alert(1)</script><a href=\"javascript:x()\">x</a>"
    db.session.commit()

    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)

    assert "<strong>bold</strong>" in page
    assert "<script>alert" not in page and "javascript:" not in page
    assert "Winter run" in page and "Spring run" in page and "Old run" not in page
    assert course.contact_email in page
    assert client.get("/courses/no-such-course").status_code == 404


def test_enrol_form_has_named_fields_cohort_choice_and_unticked_newsletter(client, newsletter, make_cohort):
    cohort = make_cohort(label="Winter run")
    make_cohort(starts_in_days=60, label="Spring run")
    page = client.get(enroll_path(cohort)).get_data(as_text=True)
    for name in ("full_name", "email", "phone", "country", "organisation", "note", "newsletter", "csrf_token"):
        assert f'name="{name}"' in page
    assert page.count('type="radio" ') == 2 and 'name="cohort"' in page
    assert 'name="newsletter" type="checkbox" value="y">' in page  # not checked
    assert '<label for="full_name">Full name' in page and "indicates required" in page


def test_enrolment_answers_alike_for_new_and_duplicate_addresses(client, make_cohort):
    cohort = make_cohort()
    first = post_enroll(client, cohort)
    second = post_enroll(client, cohort, email="ADA@example.com")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert "Check your inbox" in client.get(first.headers["Location"]).get_data(as_text=True)
    assert count(Enrollment) == 1


def test_mailed_links_confirm_and_cancel_only_on_post(app, client, make_cohort, deliver):
    cohort = make_cohort()
    post_enroll(client, cohort)
    [mail] = deliver(1)
    confirm = link_path(mail, "enrollments/confirm")

    page = client.get(confirm)
    assert page.status_code == 200 and f'action="{confirm}"' in page.get_data(as_text=True)
    assert only_enrollment().status == EnrollmentStatus.PENDING
    fresh = app.test_client(use_cookies=False)
    confirmed = fresh.post(confirm)
    assert confirmed.status_code == 200 and "You're enrolled" in confirmed.get_data(as_text=True)
    assert only_enrollment().status == EnrollmentStatus.CONFIRMED

    cancel = link_path(mail, "enrollments/cancel")
    page = client.get(cancel).get_data(as_text=True)
    assert "Cancel my enrolment" in page and only_enrollment().status == EnrollmentStatus.CONFIRMED
    assert "is cancelled" in fresh.post(cancel).get_data(as_text=True)
    assert only_enrollment().status == EnrollmentStatus.CANCELLED
    assert "already cancelled" in client.get(cancel).get_data(as_text=True)


def test_full_cohort_confirmation_page_gives_the_waitlist_position(client, make_cohort, deliver):
    cohort = make_cohort(capacity=1, seats_taken=1)
    post_enroll(client, cohort)
    [mail] = deliver(1)
    page = client.post(link_path(mail, "enrollments/confirm")).get_data(as_text=True)
    assert "on the waitlist" in page and "number 1 on the waitlist" in page


def test_one_click_list_unsubscribe_keeps_the_enrolment(app, client, make_cohort, deliver):
    cohort = make_cohort()
    post_enroll(client, cohort)
    [mail] = deliver(1)
    client.post(link_path(mail, "enrollments/confirm"))
    path = mail["List-Unsubscribe"].strip("<>").removeprefix(app.config["BASE_URL"])

    assert "Stop optional mail" in client.get(path).get_data(as_text=True)
    response = app.test_client(use_cookies=False).post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert only_enrollment().status == EnrollmentStatus.CONFIRMED
    assert only_enrollment().optional_mail_stopped_at is not None
    assert db.session.scalars(select(ConsentEvent.action).order_by(ConsentEvent.id.desc())).first() == \
        "course_mail_stopped"


@pytest.mark.parametrize("kind", ["tampered", "wrong-purpose"])
def test_bad_enrolment_links_get_a_clear_page_and_change_nothing(client, make_cohort, deliver, kind):
    cohort = make_cohort()
    post_enroll(client, cohort)
    [mail] = deliver(1)
    if kind == "tampered":
        path = link_path(mail, "enrollments/confirm")[:-2] + "xx"
    else:
        path = "/enrollments/confirm/" + link_path(mail, "enrollments/cancel").rsplit("/", 1)[1]
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 400
        assert "This link does not work" in response.get_data(as_text=True)
    assert only_enrollment().status == EnrollmentStatus.PENDING


def test_newsletter_box_ticked_starts_a_subscription_and_unticked_does_not(client, newsletter, make_cohort):
    cohort = make_cohort()
    post_enroll(client, cohort, email="yes@example.com", newsletter="y")
    post_enroll(client, cohort, email="no@example.com")
    assert [s.subscriber.email for s in db.session.scalars(select(Subscription))] == ["yes@example.com"]
    assert sorted(m.subject.split(" ")[3] for m in outbox_rows()) == ["enrolment", "enrolment", "subscription"]


def test_closed_cohort_gets_a_clear_message_and_nothing_is_stored(client, make_cohort):
    cohort = make_cohort()
    path = enroll_path(cohort)
    token = csrf_token(client, path)
    cohort.enrolment_closes_at = utcnow() - timedelta(minutes=1)  # closed while the form was open
    db.session.commit()
    response = client.post(path, data={"csrf_token": token, "cohort": str(cohort.id), "full_name": "Ada",
                                       "email": "ada@example.com"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="cohort-error"' in body and "has closed" in body
    assert (count(Enrollment), count(OutboxMessage)) == (0, 0)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"phone": "555-0100"}, "phone", "international format"),
    ({"country": "ZZ"}, "country", "from the list"),
    ({"full_name": "n" * 201}, "full_name", "at most 200 characters"),
    ({"organisation": "o" * 300}, "organisation", "at most 200 characters"),
    ({"note": "n" * 2001}, "note", "at most 2000 characters"),
    ({"email": ""}, "email", "Enter your email address."),
    ({"cohort": "1 OR 1=1"}, "cohort", "Choose one of the dates offered."),
    ({"cohort": "other-course"}, "cohort", "Choose one of the dates offered."),
])
def test_bad_input_is_shown_beside_the_field_and_nothing_is_stored(client, newsletter, make_cohort,
                                                                   fields, field, message):
    cohort = make_cohort()
    if fields.get("cohort") == "other-course":
        fields = {"cohort": str(make_cohort(course_slug="another").id)}
    response = post_enroll(client, cohort, newsletter="y", **fields)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body and message in body
    assert (count(Enrollment), count(OutboxMessage), count(Subscription)) == (0, 0, 0)


def test_every_refusal_is_shown_at_once_beside_its_field(client, newsletter, make_cohort):
    response = post_enroll(client, make_cohort(), full_name="", email="not-an-address", phone="555",
                           cohort="abc")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    for field in ("full_name", "email", "phone", "cohort"):
        assert f'id="{field}-error"' in body
    assert "Enter your full name." in body and "fields marked below" in body
    assert (count(Enrollment), count(OutboxMessage)) == (0, 0)


def test_unpublished_course_pages_are_not_found(client, make_cohort):
    course = make_cohort().course
    course.is_published = False
    db.session.commit()
    assert client.get(f"/courses/{course.slug}").status_code == 404
    assert client.get(f"/courses/{course.slug}/enroll").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Course)) == 1
