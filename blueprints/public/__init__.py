from flask import Blueprint

bp = Blueprint("public", __name__)

from blueprints.public import privacy_routes, routes  # noqa: E402,F401  (routes attach to bp)
