"""Development only: the mails Roster sent, readable in the browser at /dev/mail.
Registered only when ENV_NAME is development (or DEV_MAILBOX is set, for tests)."""

from flask import Blueprint

bp = Blueprint("dev", __name__, url_prefix="/dev")
