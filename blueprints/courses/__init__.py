from flask import Blueprint

bp = Blueprint("courses", __name__)

from blueprints.courses import routes  # noqa: E402,F401  (routes attach to bp)
