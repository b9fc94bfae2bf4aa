"""The staff console at /admin: every view needs a signed-in staff member. Each console
area is a package with its views (routes.py) and their forms (forms.py) side by side."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
