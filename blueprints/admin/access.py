"""Who may use the console: sign-in for every view but the sign-in page, owner-only
views, the acting staff member as an audit Actor, and the console's navigation."""

from functools import wraps

from flask import abort, flash, request, session
from flask_login import current_user

from blueprints.admin import bp
from extensions import login_manager
from models import StaffRole, StaffUser
from services.core.audit import Actor
from services.core.errors import DomainError
from services.staff import staff_sessions

login_manager.login_view = "admin.login"
login_manager.login_message = "Please sign in to use the staff console."
login_manager.login_message_category = "info"

# Views reachable without signing in.
OPEN_ENDPOINTS = {"admin.login"}

# The console's navigation: (endpoint, label, owners only). Other features add
# their pages here, e.g. ("admin.exports", "Export", False).
NAV = [
    ("admin.dashboard", "Dashboard", False),
    ("admin.subscribers", "Subscribers", False),
    ("admin.lists", "Lists", False),
    ("admin.courses", "Courses", False),
    ("admin.newsletters", "Newsletters", False),
    ("admin.export", "Export", False),
    ("admin.imports", "Import", False),
    ("admin.outbox", "Outbox", False),
    ("admin.suppressions", "Suppressions", False),
    ("admin.background", "Background work", False),
    ("admin.audit_log", "Audit log", False),
    ("admin.embed_snippets_page", "Embed", False),
    ("admin.publication_settings", "Publication", True),
    ("admin.staff", "Staff", True),
    ("admin.api_token_list", "API tokens", True),
]


# The Flask session key holding the id of the server-side session (services/staff_sessions.py).
STAFF_SESSION_ID = "staff_session_id"


@login_manager.user_loader
def load_staff(user_id: str) -> StaffUser | None:
    # Only a live server-side session signs anyone in; so a remember-me cookie (never
    # issued: login_user is not asked to remember), which carries none, opens nothing.
    return staff_sessions.staff_for(session.get(STAFF_SESSION_ID), user_id)


@bp.before_request
def require_staff():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.after_request
def private_pages(response):
    # Console pages hold personal data: never cache them anywhere.
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Frame-Options", "DENY")  # a newsletter's preview is framed by its page
    return response


@bp.app_context_processor
def console_navigation():
    return {"admin_nav": NAV}


def is_owner() -> bool:
    return current_user.is_authenticated and current_user.role == StaffRole.OWNER


def owner_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not is_owner():
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def current_actor() -> Actor:
    return Actor(current_user.email, staff_user_id=current_user.id, ip=request.remote_addr)


def flash_outcome(action, success) -> None:
    """Run a service call for a button; flash `success` (a text, or a function of the
    call's result) or the domain error the call raised."""
    try:
        result = action()
    except DomainError as error:
        flash(str(error), "error")
        return
    flash(success(result) if callable(success) else success, "info")
