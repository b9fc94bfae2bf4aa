"""Staff edit courses and cohorts; creating them is services.courses.courses' (shared with the CLI)."""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Cohort, Course
from services.core import audit
from services.core.audit import Actor
from services.core.errors import InvalidInput
from services.core.lookup import get_or_raise
from services.core.transactions import write_transaction
from services.courses import enrollments
from services.courses.courses import CohortFields, CourseFields, cohort_values, course_values, flush_unique_slug


def all_courses(session: Session) -> list[Course]:
    return list(session.scalars(select(Course).options(selectinload(Course.cohorts)).order_by(Course.title)))


def get_course(session: Session, course_id: int) -> Course:
    course = get_or_raise(session, Course, course_id, "No such course.")
    return course


def get_cohort(session: Session, cohort_id: int) -> Cohort:
    cohort = get_or_raise(session, Cohort, cohort_id, "No such cohort.")
    return cohort


def _changed(row, values: dict) -> list[str]:
    return sorted(name for name, value in values.items() if getattr(row, name) != value)


def update_course(actor: Actor, course_id: int, fields: CourseFields) -> Course:
    values = course_values(fields)
    with write_transaction() as session:
        course = get_or_raise(session, Course, course_id, "No such course.", for_update=True)
        changed = _changed(course, values)
        for name, value in values.items():
            setattr(course, name, value)
        flush_unique_slug(session, course.slug)
        audit.record(session, actor, "course.update", target=f"course:{course.id}", details={"changed": changed})
    return course


def update_cohort(actor: Actor, cohort_id: int, fields: CohortFields) -> Cohort:
    """Capacity cannot drop below the seats taken within it. Seats held over capacity
    fill a raised capacity first; seats it still adds go to the waitlist in order,
    mailed as when someone cancels."""
    values = cohort_values(fields)
    with write_transaction() as session:
        cohort = get_or_raise(session, Cohort, cohort_id, "No such cohort.", for_update=True, populate_existing=True)
        held = cohort.seats_taken + cohort.seats_over_capacity
        capacity = values["capacity"]
        if capacity is not None and capacity < cohort.seats_taken:
            raise InvalidInput("capacity", f"{held} seats are taken, so capacity cannot be lower than "
                                           f"{cohort.seats_taken}. Cancel or move enrolments to the waitlist first.")
        changed = _changed(cohort, values)
        for name, value in values.items():
            setattr(cohort, name, value)
        cohort.seats_taken = held if capacity is None else min(held, capacity)
        cohort.seats_over_capacity = held - cohort.seats_taken
        session.flush()
        promoted = 0
        while enrollments.promote_next(session, cohort):
            promoted += 1
        audit.record(session, actor, "cohort.update", target=f"cohort:{cohort.id}",
                     details={"changed": changed, "promoted": promoted})
    return cohort
