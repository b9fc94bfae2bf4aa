"""Staff API: a cohort's enrolments, as the console lists them."""

from blueprints.api import bp
from blueprints.api.auth import token_required
from blueprints.api.requests import MAX_ROW_ID, int_arg, only_query
from models import Enrollment
from services.console import dashboard
from services.console.dashboard import CohortSeats
from services.core.transactions import read_session
from services.courses import enrollment_admin


def _moment(value) -> str | None:
    return value.isoformat() if value is not None else None


def _cohort_json(seats: CohortSeats) -> dict:
    cohort = seats.cohort
    return {"id": cohort.id, "course": cohort.course.slug, "label": cohort.label,
            "starts_on": cohort.starts_on.isoformat(), "ends_on": cohort.ends_on.isoformat(),
            "capacity": cohort.capacity, "seats_taken": seats.seats_taken, "waitlisted": seats.waitlisted}


def _enrollment_json(enrollment: Enrollment) -> dict:
    return {
        "id": enrollment.id, "full_name": enrollment.full_name, "email": enrollment.email,
        "phone": enrollment.phone, "country": enrollment.country, "organisation": enrollment.organisation,
        "note": enrollment.note, "status": enrollment.status.value,
        "waitlist_position": enrollment.waitlist_position,
        "requested_at": _moment(enrollment.requested_at), "confirmed_at": _moment(enrollment.confirmed_at),
        "cancelled_at": _moment(enrollment.cancelled_at), "paid_at": _moment(enrollment.paid_at),
    }


@bp.route("/enrollments")
@token_required(write=False)
def list_enrollments():
    only_query("cohort")
    cohort_id = int_arg("cohort", None, minimum=1, maximum=MAX_ROW_ID)
    seats = dashboard.cohort_seats(read_session(), cohort_id)
    return {"cohort": _cohort_json(seats),
            "items": [_enrollment_json(e) for e in enrollment_admin.cohort_enrollments(read_session(), cohort_id)]}
