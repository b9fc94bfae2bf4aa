"""An .ics invitation for the day a cohort starts, attached to seat-holder mails (in the
language of the mail it is attached to)."""

import base64
from datetime import timedelta

from flask_babel import gettext
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
        summary=gettext("%(course)s starts (%(cohort)s)", course=course.title, cohort=cohort.label),
        # An all-day event on the first day: the course has dates, not hours.
        start=cohort.starts_on,
        end=cohort.starts_on + timedelta(days=1),
        description="\n".join((
            gettext("%(course)s, %(cohort)s: from %(start)s to %(end)s.", course=course.title, cohort=cohort.label,
                    start=long_date(cohort.starts_on), end=long_date(cohort.ends_on)),
            gettext("Questions: %(address)s", address=course.contact_email), course_url)),
        location=gettext("Online") if course.format == CourseFormat.ONLINE else None,
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
