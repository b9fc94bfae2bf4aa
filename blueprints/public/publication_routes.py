"""The publication's look on every hosted page: its stylesheet (the accent colour),
its logo and the favicon, and `publication` in every template."""

from flask import Response, abort, make_response, render_template

from blueprints.public import bp
from services.core import publication
from services.core.transactions import read_session

# The stylesheet's and logo's URLs carry the settings' version: a save changes them.
LONG_CACHE = "public, max-age=31536000, immutable"


@bp.before_app_request
def read_publication():
    # Before any write begins: a mail queued inside one then finds the settings read.
    publication.current()


@bp.app_context_processor
def publication_context():
    return {"publication": publication.current()}


@bp.route("/publication.css")
def publication_stylesheet():
    """The accent colour as a custom property: stored only after it matched #rrggbb."""
    response = make_response(render_template("publication.css", accent=publication.current().accent_colour))
    response.mimetype = "text/css"
    response.headers["Cache-Control"] = LONG_CACHE
    return response


@bp.route("/publication/logo")
def publication_logo():
    found = publication.logo(read_session())
    if found is None:
        abort(404)
    data, content_type = found
    response = Response(data, mimetype=content_type)
    response.headers["Cache-Control"] = LONG_CACHE
    # An image, never a document: nothing in it runs, even opened on its own.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/favicon.ico")
@bp.route("/favicon.svg")
def favicon():
    response = make_response(render_template("favicon.svg", accent=publication.current().accent_colour))
    response.mimetype = "image/svg+xml"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
