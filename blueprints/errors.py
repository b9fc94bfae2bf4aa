"""Errors become HTTP here: one map from the services' domain errors to statuses, and
the page or problem each surface answers with. A clear message and the right status,
never a stack trace. Blueprints add their own pages for the errors they explain
better (a bad mailed link); views catch an error only to show it beside a form field."""

from flask import Flask, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from blueprints.requests import wants_json
from services.core.errors import (
    Closed,
    DomainError,
    ExpiredToken,
    Forbidden,
    InvalidInput,
    InvalidToken,
    NotFound,
    SignInFailed,
    SignupsClosed,
)
from services.core.transactions import read_session

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    401: (_l("Not signed in"), _l("Please sign in.")),
    403: (_l("Not allowed"), _l("This request is not allowed.")),
    404: (_l("Page not found"), _l("There is nothing at this address.")),
    405: (_l("Method not allowed"), _l("This page cannot be used that way.")),
    409: (_l("No longer possible"), _l("This can no longer be done.")),
    410: (_l("Expired"), _l("This link has expired.")),
    413: (_l("Too large"), _l("What you sent is larger than this site accepts.")),
    429: (_l("Too many requests"),
          _l("You have tried this a lot in a short time. Please wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("We could not complete your request. Nothing was changed; please try again.")),
    503: (_l("Temporarily unavailable"),
          _l("We cannot reach our database right now. Nothing was changed; please try again in a minute.")),
}


# Checked in the order of each error's class hierarchy, most specific first.
STATUS_OF: dict[type[DomainError], int] = {
    SignupsClosed: 503,
    NotFound: 404,
    ExpiredToken: 410,
    InvalidToken: 400,
    Forbidden: 403,
    SignInFailed: 401,
    Closed: 409,
    InvalidInput: 400,
}


def status_of(error: DomainError) -> int:
    return next((STATUS_OF[cls] for cls in type(error).__mro__ if cls in STATUS_OF), 400)


def error_page(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, MESSAGES[500])
    return render_template("error.html", title=str(title), message=message or str(default)), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_page(400, gettext("This form has expired or was not sent from our site. "
                                       "Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if request.path.startswith("/api/"):
            # Routing errors (404, 405) reach no blueprint handler; API clients still get JSON.
            from blueprints.api import http_problem

            return http_problem(error)
        response = error_page(error.code or 500)
        if error.code == 405 and error.valid_methods:
            return response[0], 405, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        # Pages get the error page; the API and JSON clients (the embeds' scripts) a problem.
        if request.path.startswith("/api/") or wants_json():
            from blueprints.api.problems import problem

            return problem(status_of(error), str(error))
        return error_page(status_of(error), str(error))

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        read_session().rollback()
        app.logger.error("database unavailable: %s", error)
        return error_page(503)
