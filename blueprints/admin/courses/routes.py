"""Courses, their cohorts, and the enrolments in each cohort."""

from flask import flash, redirect, render_template, request, url_for

from blueprints.admin import bp
from blueprints.admin.access import current_actor, flash_outcome, owner_required
from blueprints.admin.courses.forms import FORMAT_LABELS, CohortForm, CourseForm
from blueprints.form_errors import show_error
from services.console import dashboard
from services.core.errors import InvalidInput
from services.core.transactions import read_session
from services.courses import course_admin, courses, enrollment_admin


def _save(form, save, done, template: str, **context):
    """Validate, save through the service, and show a refusal beside its field;
    `done(saved)` gives the page to go to and what to say."""
    refused = False
    if form.validate_on_submit():
        try:
            saved = save(form.fields())
        except InvalidInput as error:
            refused = True
            show_error(form, error)
        else:
            target, message = done(saved)
            flash(message, "info")
            return redirect(target, 303)
    status = 400 if form.errors or refused else 200
    return render_template(template, form=form, **context), status


def _course_saved(course):
    return url_for(".course_edit", course_id=course.id), f"Saved the course {course.title}."


def _cohort_saved(cohort):
    return url_for(".course_edit", course_id=cohort.course_id), f"Saved the cohort {cohort.label}."


@bp.route("/courses", endpoint="courses")
def courses_index():
    return render_template("admin/courses/index.html", courses=course_admin.all_courses(read_session()),
                           format_labels=FORMAT_LABELS)


@bp.route("/courses/new", methods=["GET", "POST"])
def course_new():
    return _save(CourseForm(data={"currency": "EUR", "format": "online"}),
                 lambda fields: courses.create_course(fields, current_actor()),
                 _course_saved, "admin/courses/course_form.html",
                 course=None)


@bp.route("/courses/<int:course_id>", methods=["GET", "POST"])
def course_edit(course_id):
    course = course_admin.get_course(read_session(), course_id)
    form = CourseForm() if request.method == "POST" else CourseForm.of(course)
    return _save(form, lambda fields: course_admin.update_course(current_actor(), course_id, fields),
                 _course_saved, "admin/courses/course_form.html",
                 course=course, description=courses.description_html(course),
                 cohorts=dashboard.course_cohorts(read_session(), course_id))


@bp.route("/courses/<int:course_id>/cohorts/new", methods=["GET", "POST"])
def cohort_new(course_id):
    course = course_admin.get_course(read_session(), course_id)
    return _save(CohortForm(data={"timezone": "UTC"}),
                 lambda fields: courses.create_cohort(course.slug, fields, current_actor()),
                 _cohort_saved, "admin/courses/cohort_form.html",
                 course=course, cohort=None)


@bp.route("/cohorts/<int:cohort_id>", methods=["GET", "POST"])
def cohort_edit(cohort_id):
    cohort = course_admin.get_cohort(read_session(), cohort_id)
    form = CohortForm() if request.method == "POST" else CohortForm.of(cohort)
    return _save(form, lambda fields: course_admin.update_cohort(current_actor(), cohort_id, fields),
                 _cohort_saved, "admin/courses/cohort_form.html",
                 course=cohort.course, cohort=cohort)


@bp.route("/cohorts/<int:cohort_id>/enrollments")
def cohort_enrollments(cohort_id):
    seats = dashboard.cohort_seats(read_session(), cohort_id)
    return render_template("admin/courses/enrollments.html", cohort=seats.cohort, seats=seats,
                           enrollments=enrollment_admin.cohort_enrollments(read_session(), cohort_id))


def _act_on_enrollment(enrollment_id, action, success):
    enrollment = enrollment_admin.get_enrollment(read_session(), enrollment_id)
    flash_outcome(action, success)
    return redirect(url_for(".cohort_enrollments", cohort_id=enrollment.cohort_id), 303)


@bp.route("/enrollments/<int:enrollment_id>/seat", methods=["POST"])
def enrollment_seat(enrollment_id):
    return _act_on_enrollment(enrollment_id, lambda: enrollment_admin.give_seat(current_actor(), enrollment_id),
                              "Seat given; they have been mailed.")


@bp.route("/enrollments/<int:enrollment_id>/seat-over-capacity", methods=["POST"])
@owner_required
def enrollment_seat_over_capacity(enrollment_id):
    reason = request.form.get("reason", "")
    return _act_on_enrollment(
        enrollment_id, lambda: enrollment_admin.give_seat(current_actor(), enrollment_id, reason),
        "Seat given (over capacity if the cohort was full; the reason is in the audit log).")


@bp.route("/enrollments/<int:enrollment_id>/waitlist", methods=["POST"])
def enrollment_to_waitlist(enrollment_id):
    return _act_on_enrollment(
        enrollment_id, lambda: enrollment_admin.move_to_waitlist(current_actor(), enrollment_id),
        "Moved to the end of the waitlist and mailed; the seat went to the first person waiting, if any.")


@bp.route("/enrollments/<int:enrollment_id>/paid", methods=["POST"])
def enrollment_paid(enrollment_id):
    paid = request.form.get("paid") == "1"
    return _act_on_enrollment(enrollment_id, lambda: enrollment_admin.set_paid(current_actor(), enrollment_id, paid),
                              "Marked paid." if paid else "Payment mark removed.")


@bp.route("/enrollments/<int:enrollment_id>/cancel", methods=["POST"])
def enrollment_cancel(enrollment_id):
    return _act_on_enrollment(enrollment_id, lambda: enrollment_admin.cancel(current_actor(), enrollment_id),
                              "Cancelled and mailed; a freed seat went to the first person waiting.")
