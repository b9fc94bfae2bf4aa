"""Signing in and out, one's own password, and the owners' page for staff accounts."""

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from blueprints.admin import bp
from blueprints.admin.access import STAFF_SESSION_ID, current_actor, flash_outcome, owner_required
from blueprints.admin.staff.forms import PasswordChangeForm, SignInForm, StaffForm
from blueprints.form_errors import show_error
from extensions import limiter
from models import StaffRole
from services.core.errors import InvalidInput, SignInFailed
from services.core.transactions import read_session
from services.staff import staff as staff_service
from services.staff import staff_sessions


def staff_login_limit() -> str:
    return current_app.config["STAFF_LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str | None:
    """Only a console path of this site: never an open redirect."""
    if target and target.startswith("/admin") and "//" not in target and "\\" not in target:
        return target
    return None


def _fresh_session() -> None:
    """The old session ends on the server, and nothing carries over from it, not even the
    CSRF token; the signed token Flask-WTF cached for this request belonged to it."""
    staff_sessions.end(session.get(STAFF_SESSION_ID))
    session.clear()
    g.pop("csrf_token", None)


def _sign_in(user) -> None:
    _fresh_session()
    session[STAFF_SESSION_ID] = staff_sessions.start(user.id, request.remote_addr, request.user_agent.string)
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(staff_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for(".dashboard"))
    form = SignInForm()
    problem = None
    if form.validate_on_submit():
        try:
            user = staff_service.authenticate(form.email.data, form.password.data, request.remote_addr)
        except SignInFailed as error:
            problem = str(error)
        else:
            _sign_in(user)
            return redirect(_safe_next(request.args.get("next")) or url_for(".dashboard"), 303)
    status = 400 if form.errors or problem else 200
    return render_template("admin/login.html", form=form, problem=problem), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    _fresh_session()
    flash("You are signed out.", "info")
    return redirect(url_for(".login"), 303)


@bp.route("/account", methods=["GET", "POST"])
@limiter.limit(staff_login_limit, methods=["POST"])
def account():
    """Change one's own password; other browsers signed in to the account are signed out."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            user = staff_service.change_password(current_user.id, form.current_password.data,
                                                 form.new_password.data, request.remote_addr)
        except InvalidInput as error:
            show_error(form, error)
        else:
            _sign_in(user)  # this browser stays signed in, in a new session
            flash("Your password is changed. Other browsers signed in as you are signed out.", "info")
            return redirect(url_for(".account"), 303)
    status = 400 if form.errors else 200
    browsers = staff_sessions.signed_in_browsers(current_user.id, session.get(STAFF_SESSION_ID))
    return render_template("admin/account.html", form=form, browsers=browsers), status


@bp.route("/staff", methods=["GET", "POST"])
@owner_required
def staff():
    form = StaffForm()
    if form.validate_on_submit():
        try:
            created = staff_service.create_staff(current_actor(), form.email.data, form.password.data,
                                                 StaffRole(form.role.data))
        except InvalidInput as error:
            show_error(form, error)
        else:
            flash(f"Created {created.role.value} account {created.email}.", "info")
            return redirect(url_for(".staff"), 303)
    status = 400 if form.errors else 200
    return render_template("admin/staff.html", form=form, accounts=staff_service.staff_accounts(read_session()),
                           roles=list(StaffRole)), status


@bp.route("/staff/<int:user_id>/role", methods=["POST"])
@owner_required
def staff_role(user_id):
    role = request.form.get("role", "")
    if role not in {r.value for r in StaffRole}:
        flash("Choose a role.", "error")
    else:
        flash_outcome(lambda: staff_service.change_role(current_actor(), user_id, StaffRole(role)),
                      "Role changed.")
    return redirect(url_for(".staff"), 303)


@bp.route("/staff/<int:user_id>/active", methods=["POST"])
@owner_required
def staff_active(user_id):
    active = request.form.get("active") == "1"
    flash_outcome(lambda: staff_service.set_active(current_actor(), user_id, active),
                  "Account enabled." if active else "Account disabled.")
    return redirect(url_for(".staff"), 303)

