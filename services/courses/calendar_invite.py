"""An .ics invitation for the day a cohort starts, attached to seat-holder mails."""

import base64
from datetime import timedelta

from icalendar import Calendar, Event

from models import CourseFormat, Enrollment
from services.core.links import external_url, mail_domain
from services.courses.courses import long_date


def cohort_start_event(enrollment: Enrollment, site_name: str) -> Calendar:
    cohort = enrollment.cohort
    course = cohort.course
    course_url = external_url("courses.detail", slug=course.slug)
    event = Event.new(
        # Stable per enrolment, so a second mail updates the same calendar entry.
        uid=f"enrollment-{enrollment.id}@{mail_domain()}",
        summary=f"{course.title} starts ({cohort.label})",
        # An all-day event on the first day: the course has dates, not hours.
        start=cohort.starts_on,
        end=cohort.starts_on + timedelta(days=1),
        description=(f"{course.title}, {cohort.label}: from {long_date(cohort.starts_on)} "
                     f"to {long_date(cohort.ends_on)}.\nQuestions: {course.contact_email}\n{course_url}"),
        location="Online" if course.format == CourseFormat.ONLINE else None,
        url=course_url,
    )
    return Calendar.new(prodid=f"-//{site_name}//Roster//EN", method="PUBLISH", subcomponents=[event])


def cohort_start_attachment(enrollment: Enrollment, site_name: str) -> dict:
    """The invitation in the form outbox.enqueue takes."""
    return {
        "filename": "course-start.ics",
        "content_type": "text/calendar",
        "content_base64": base64.b64encode(cohort_start_event(enrollment, site_name).to_ical()).decode("ascii"),
    }
