"""The staff console at /admin: every view needs a signed-in staff member."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from blueprints.admin import (  # noqa: E402,F401  (routes attach to bp)
    access,
    routes,
    routes_auth,
    routes_background,
    routes_courses,
    routes_data,
    routes_integrations,
    routes_lists,
    routes_subscribers,
)
