"""`flask courses create`, `flask cohorts create` and the demo course."""

from datetime import date

from sqlalchemy import select

from extensions import db
from models import AuditEvent, Cohort, Course, CourseFormat


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_courses_and_cohorts_are_created_from_flags(app, tmp_path):
    description = tmp_path / "about.md"
    description.write_text("Six weeks of **reading**.", encoding="utf-8")
    made = invoke(app, "courses", "create", "--slug", "ir-basics", "--title", "IR Basics",
                  "--contact", "courses@example.org", "--weeks", "6", "--fee", "249.50", "--currency", "gbp",
                  "--format", "in_person", "--description-file", str(description), "--publish")
    assert made.exit_code == 0, made.output
    cohort = invoke(app, "cohorts", "create", "--course", "ir-basics", "--label", "Spring 2030",
                    "--starts", "2030-03-04", "--ends", "2030-04-12", "--capacity", "30",
                    "--closes", "2030-03-01 12:00", "--timezone", "Europe/London")
    assert cohort.exit_code == 0, cohort.output
    unlimited = invoke(app, "cohorts", "create", "--course", "ir-basics", "--label", "Summer 2030",
                       "--starts", "2030-06-03", "--ends", "2030-07-12")
    assert unlimited.exit_code == 0 and "unlimited seats" in unlimited.output

    course = db.session.scalars(select(Course)).one()
    assert (course.fee_minor, course.currency, course.format, course.is_published) == (
        24950, "GBP", CourseFormat.IN_PERSON, True)
    assert course.description == "Six weeks of **reading**."
    spring, summer = db.session.scalars(select(Cohort).order_by(Cohort.starts_on)).all()
    assert (spring.starts_on, spring.capacity, spring.timezone) == (date(2030, 3, 4), 30, "Europe/London")
    assert spring.enrolment_closes_at.isoformat() == "2030-03-01T12:00:00+00:00"  # GMT in March
    assert summer.capacity is None
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["course.create", "cohort.create", "cohort.create"]


def test_bad_flags_get_a_clear_message_and_create_nothing(app):
    base = ["courses", "create", "--title", "T", "--contact", "c@example.org", "--weeks", "6"]
    for extra, message in [
        (["--slug", "Bad Slug"], "--slug"),
        (["--slug", "ok", "--fee", "12.345"], "decimal places"),
        (["--slug", "ok", "--currency", "XYZ"], "ISO 4217"),
        (["--slug", "ok", "--contact", "nope"], "valid email"),
    ]:
        result = invoke(app, *base, *extra)
        assert result.exit_code != 0 and message in result.output, result.output
    assert db.session.scalars(select(Course)).all() == []

    assert invoke(app, *base, "--slug", "ok").exit_code == 0
    duplicate = invoke(app, *base, "--slug", "ok")
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    for extra, message in [
        (["--course", "missing"], "no course"),
        (["--course", "ok", "--timezone", "Mars/Olympus"], "IANA timezone"),
        (["--course", "ok", "--ends", "2030-01-01"], "end before it starts"),
    ]:
        args = ["cohorts", "create", "--label", "L", "--starts", "2030-02-01", "--ends", "2030-03-01", *extra]
        # click takes the last value given for a repeated option
        result = invoke(app, *args)
        assert result.exit_code != 0 and message in result.output, result.output
    assert db.session.scalars(select(Cohort)).all() == []


def test_demo_seed_adds_the_certificate_course_with_an_upcoming_and_a_past_cohort(app, client):
    assert invoke(app, "demo", "seed").exit_code == 0
    assert "already present" in invoke(app, "demo", "seed").output

    course = db.session.scalars(select(Course)).one()
    assert (course.slug, course.duration_weeks, course.format) == (
        "certificate-international-relations", 6, CourseFormat.ONLINE)
    upcoming, past = sorted(course.cohorts, key=lambda c: c.starts_on, reverse=True)
    assert upcoming.capacity == 30 and upcoming.starts_on > date.today() > past.ends_on
    page = client.get("/courses/certificate-international-relations/enroll").get_data(as_text=True)
    assert "30 seats left" in page and 'name="full_name"' in page
    assert past.label not in page
