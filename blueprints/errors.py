"""Error pages: a clear message and the right status, never a stack trace."""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from blueprints.requests import wants_json
from extensions import db
from services.core.errors import SignupsClosed

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Not allowed", "This request is not allowed."),
    404: ("Page not found", "There is nothing at this address."),
    405: ("Method not allowed", "This page cannot be used that way."),
    413: ("Too large", "What you sent is larger than this site accepts."),
    429: ("Too many requests", "You have tried this a lot in a short time. Please wait a minute and try again."),
    500: ("Something went wrong", "We could not complete your request. Nothing was changed; please try again."),
    503: ("Temporarily unavailable",
          "We cannot reach our database right now. Nothing was changed; please try again in a minute."),
}


def error_page(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, MESSAGES[500])
    return render_template("error.html", title=title, message=message or default), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_page(400, "This form has expired or was not sent from our site. "
                               "Please reload the page and try again.")

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

    @app.errorhandler(SignupsClosed)
    def signups_closed(error):
        # Every sign-up path (hosted form, embeds, API): staff have left no list to join.
        if request.path.startswith("/api/") or wants_json():
            from blueprints.api.problems import problem

            return problem(503, str(error))
        return error_page(503, str(error))

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        db.session.rollback()
        app.logger.error("database unavailable: %s", error)
        return error_page(503)
