"""The public archive of each public list's sent newsletters, with its Atom feed."""

from flask import Blueprint

bp = Blueprint("newsletters", __name__, url_prefix="/newsletters")
