from flask import Blueprint

bp = Blueprint("embed", __name__)

from blueprints.embed import routes  # noqa: E402,F401  (routes attach to bp)
