"""Course catalogue, enrolment form, and the links in enrolment mails."""

from flask import redirect, render_template, url_for

from blueprints.courses import bp
from blueprints.courses.forms import EnrollForm
from blueprints.errors import status_of
from blueprints.form_errors import show_error
from blueprints.limits import address_post_limit, address_rate_key, public_post_limit
from blueprints.requests import consent_origin, wording_shown
from extensions import csrf, limiter
from services.core.errors import Closed, ExpiredToken, InvalidInput, InvalidToken, SignupsClosed
from services.core.languages import current_language
from services.core.tokens import Purpose
from services.core.transactions import read_session
from services.courses import courses, enrollments
from services.courses.enrollment_details import EnrollmentInput
from services.subscriptions import subscriptions
from services.subscriptions.consent import CURRENT_ENROLL_NEWSLETTER_WORDING, CURRENT_ENROLL_WORDING

bp.add_app_template_filter(courses.long_date, "long_date")
bp.add_app_template_filter(courses.fee_label, "fee")


def _published_course(slug: str):
    return courses.published_course(read_session(), slug)


def _newsletter_name() -> str | None:
    try:
        return subscriptions.default_list(read_session()).name
    except SignupsClosed:
        return None


@bp.route("/courses")
def index():
    return render_template("courses/index.html", listings=courses.published_courses(read_session()))


@bp.route("/courses/<slug>")
def detail(slug):
    course = _published_course(slug)
    return render_template("courses/detail.html", course=course,
                           description=courses.description_html(course),
                           open_cohorts=courses.open_cohorts(course),
                           upcoming=courses.upcoming_cohorts(course))


@bp.route("/courses/<slug>/enroll", methods=["GET", "POST"])
@limiter.limit(public_post_limit, methods=["POST"])
@limiter.limit(address_post_limit, methods=["POST"], key_func=address_rate_key)
def enroll(slug):
    course = _published_course(slug)
    open_cohorts = courses.open_cohorts(course)
    form = EnrollForm()
    wording_version, wording = wording_shown(CURRENT_ENROLL_WORDING)
    if form.validate_on_submit():
        if form.filled_by_bot():
            return redirect(url_for(".check_inbox", slug=slug), 303)
        try:
            enrollments.enroll(
                slug,
                EnrollmentInput(cohort=form.cohort.data, full_name=form.full_name.data, email=form.email.data,
                               phone=form.phone.data, country=form.country.data,
                               organisation=form.organisation.data, note=form.note.data,
                               newsletter=form.newsletter.data, language=current_language()),
                consent_origin("course-enroll", wording_version=wording_version),
            )
        except InvalidInput as error:
            show_error(form, error)
        else:
            return redirect(url_for(".check_inbox", slug=slug), 303)
    elif len(open_cohorts) == 1 and not form.cohort.data:
        form.cohort.data = str(open_cohorts[0].cohort.id)
    return render_template(
        "courses/enroll.html", course=course, open_cohorts=open_cohorts, upcoming=courses.upcoming_cohorts(course),
        form=form, wording=wording, newsletter_name=_newsletter_name(),
        newsletter_wording=wording_shown(CURRENT_ENROLL_NEWSLETTER_WORDING)[1],
    ), 400 if form.errors else 200


@bp.route("/courses/<slug>/enroll/check-your-inbox")
def check_inbox(slug):
    return render_template("courses/check_inbox.html", course=_published_course(slug))


@bp.errorhandler(InvalidToken)
@bp.errorhandler(Closed)
def link_problem(error: InvalidToken | Closed):
    """A mailed enrolment link that no longer works, or asks what can no longer be done."""
    return render_template("courses/problem.html", message=str(error),
                           expired=isinstance(error, ExpiredToken)), status_of(error)


# As with newsletter links, the signed token is the authority for these POSTs, not a
# cookie, so they need no CSRF token; a GET only shows a button.
def _link_page(purpose: Purpose, token: str, template: str):
    enrollment = enrollments.describe(purpose, token)
    return render_template(template, token=token, enrollment=enrollment)


@bp.route("/enrollments/confirm/<token>", methods=["GET"])
def confirm(token):
    return _link_page(Purpose.CONFIRM_ENROLLMENT, token, "courses/confirm.html")


@bp.route("/enrollments/confirm/<token>", methods=["POST"])
@csrf.exempt
@limiter.limit(public_post_limit)
def confirm_post(token):
    outcome = enrollments.confirm(token, consent_origin("enrollment-confirm-link"))
    return render_template("courses/confirmed.html", outcome=outcome)


@bp.route("/enrollments/cancel/<token>", methods=["GET"])
def cancel(token):
    return _link_page(Purpose.CANCEL_ENROLLMENT, token, "courses/cancel.html")


@bp.route("/enrollments/cancel/<token>", methods=["POST"])
@csrf.exempt
@limiter.limit(public_post_limit)
def cancel_post(token):
    outcome = enrollments.cancel(token, consent_origin("enrollment-cancel-link"))
    return render_template("courses/cancelled.html", outcome=outcome)


@bp.route("/enrollments/stop-mail/<token>", methods=["GET"])
def stop_mail(token):
    return _link_page(Purpose.STOP_COURSE_MAIL, token, "courses/stop_mail.html")


@bp.route("/enrollments/stop-mail/<token>", methods=["POST"])
@csrf.exempt
@limiter.limit(public_post_limit)
def stop_mail_post(token):
    """RFC 8058 one-click target: answers 200 with no redirect and needs no cookie."""
    outcome = enrollments.stop_optional_mail(token, consent_origin("enrollment-list-unsubscribe"))
    return render_template("courses/mail_stopped.html", outcome=outcome, token=token)
