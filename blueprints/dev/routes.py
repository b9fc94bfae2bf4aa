"""The development mailbox: every mail in the outbox, newest first, each readable with
its links clickable, like Rails' letter_opener or Phoenix's mailbox preview."""

import re

from flask import render_template
from markupsafe import Markup, escape

from blueprints.dev import bp
from services.core.transactions import read_session
from services.mail import outbox_admin

_URL = re.compile(r"https?://[^\s<>\"']+")


def linked(text: str) -> Markup:
    """Plain text, escaped, with every URL a link."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped))  # noqa: S704 (escaped above)


@bp.after_request
def mail_html_policy(response):
    # The mails' own HTML is shown in sandboxed srcdoc frames, which take this policy:
    # inline styles and remote images as a mail client shows them, never a script.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src * data:; frame-src 'self'; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/mail")
def mailbox():
    return render_template("dev/mail.html", mails=outbox_admin.newest_mail(read_session()), linked=linked)
