"""The JSON API, v1: the public sign-up endpoint and the staff API; every error is problem+json."""

from flask import Blueprint
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from blueprints.api.problems import invalid_fields, problem
from blueprints.api.requests import RequestRejected
from services.core.errors import InvalidInput

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(HTTPException)
def http_problem(error: HTTPException):
    """Errors of API routes are problem details, not the HTML error page."""
    allowed = error.valid_methods if isinstance(error, MethodNotAllowed) else None
    headers = {"Allow": ", ".join(allowed)} if allowed else None
    return problem(error.code or 500, headers=headers)


@bp.errorhandler(RequestRejected)
def rejected(error: RequestRejected):
    return error.response


@bp.errorhandler(InvalidInput)
def invalid_input(error: InvalidInput):
    """A field's value is refused: 422 naming the field. A list that is not there (or not
    public) is a missing resource. Other domain errors are mapped in blueprints/errors.py."""
    if error.field == "list":
        return problem(404, error.message)
    return invalid_fields({error.field: [error.message]})

