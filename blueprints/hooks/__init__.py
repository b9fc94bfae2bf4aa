"""Webhooks other services call: signed, CSRF-exempt, rate-limited and size-limited."""

from flask import Blueprint

bp = Blueprint("hooks", __name__, url_prefix="/hooks")
