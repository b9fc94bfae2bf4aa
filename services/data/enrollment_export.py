"""A cohort's enrolments as CSV, streamed in the console's order, and audited."""

from dataclasses import dataclass

from sqlalchemy import select

from models import Cohort, Enrollment
from models.base import utcnow
from services.core.audit import Actor
from services.core.csv_safety import CsvStream, csv_timestamp, download_name
from services.core.lookup import get_or_raise
from services.core.transactions import database_engine, read_session
from services.courses.enrollment_admin import LISTING_ORDER
from services.data.exports import audit_on_finish

HEADER = ("Name", "Email", "Phone", "Country", "Organisation", "Status", "Waitlist position",
          "Paid at", "Created", "Confirmed", "Cancelled")
AUDIT_ACTION = "enrollments.export"


@dataclass(frozen=True)
class EnrollmentExport:
    stream: CsvStream
    filename: str


def export_statement(cohort_id: int):
    return (
        select(Enrollment.full_name, Enrollment.email, Enrollment.phone, Enrollment.country,
               Enrollment.organisation, Enrollment.status, Enrollment.waitlist_position,
               csv_timestamp(Enrollment.paid_at), csv_timestamp(Enrollment.created_at),
               csv_timestamp(Enrollment.confirmed_at), csv_timestamp(Enrollment.cancelled_at))
        .where(Enrollment.cohort_id == cohort_id)
        .order_by(LISTING_ORDER, Enrollment.waitlist_position, Enrollment.created_at, Enrollment.id)
    )


def export_enrollments(cohort_id: int, actor: Actor, *, bom: bool = False) -> EnrollmentExport:
    """NotFound for an unknown cohort; otherwise CSV bytes streamed as iterated,
    every cell formula-escaped (a phone number's leading + included)."""
    cohort = get_or_raise(read_session(), Cohort, cohort_id, "No such cohort.")
    engine = database_engine()
    on_finish = audit_on_finish(engine, actor, AUDIT_ACTION, f"cohort:{cohort_id}",
                                {"course": cohort.course.slug, "cohort": cohort.label})
    stream = CsvStream(engine, export_statement(cohort_id), HEADER, bom=bom, on_finish=on_finish)
    filename = download_name("enrollments", cohort.course.slug, cohort.starts_on.isoformat(),
                             utcnow().strftime("%Y-%m-%d"))
    return EnrollmentExport(stream, filename)
