from flask import Blueprint
from werkzeug.exceptions import HTTPException

from blueprints.api.problems import problem
from blueprints.api.requests import RequestRejected

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(HTTPException)
def http_problem(error: HTTPException):
    """Errors of API routes are problem details, not the HTML error page."""
    headers = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else None
    return problem(error.code or 500, headers=headers)


@bp.errorhandler(RequestRejected)
def rejected(error: RequestRejected):
    return error.response

