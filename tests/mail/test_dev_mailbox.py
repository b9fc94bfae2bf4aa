"""A newcomer sees the mail: the console backend prints it readable, links whole, and in
development /dev/mail shows every mail sent, newest first; elsewhere it does not exist."""

import io
import re
from email.message import EmailMessage

import pytest

from app import create_app
from extensions import db
from services.mail.mailer import ConsoleBackend, build_message
from services.mail.outbox_worker import claim_batch
from services.subscriptions import subscriptions
from tests.support import outbox_rows

STRONG_KEY = "k3y-for-tests-only-" + "abcdefghijklmnopqrstuvwxyz0123456789"


def confirm_url_of(text: str) -> str:
    return re.search(r"https?://\S+/confirm/\S+", text).group(0)


def test_the_console_backend_prints_the_text_part_decoded_with_every_link_whole(app, newsletter, origin):
    subscriptions.subscribe("newcomer@example.com", "Nia Newcomer", origin)
    [row] = claim_batch(10).messages
    confirm_url = confirm_url_of(row.text_body)
    assert len(confirm_url) > 76  # longer than a quoted-printable line
    out = io.StringIO()
    ConsoleBackend(app.config, stream=out).send(build_message(row, "Desk <desk@example.com>"))
    printed = out.getvalue()
    assert confirm_url in printed.splitlines()
    assert "Subject: Please confirm your subscription to International Relations Updates" in printed
    assert "=3D" not in printed and "[also: text/html]" in printed


def test_the_console_backend_names_attachments(app):
    message = EmailMessage()
    message["Subject"] = "Invite"
    message.set_content("See the attachment.")
    message.add_attachment(b"BEGIN:VCALENDAR", maintype="text", subtype="calendar", filename="start.ics")
    out = io.StringIO()
    ConsoleBackend(app.config, stream=out).send(message)
    assert "See the attachment." in out.getvalue() and "text/calendar start.ics" in out.getvalue()


@pytest.fixture
def development_client(app, database_url):
    development = create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url})
    yield development.test_client()
    with development.app_context():
        db.engine.dispose()


def test_dev_mail_lists_the_mails_newest_first_with_their_links(app, newsletter, origin, development_client):
    subscriptions.subscribe("first@example.com", "", origin)
    subscriptions.subscribe("second@example.com", "", origin)
    rows = outbox_rows()
    page = development_client.get("/dev/mail")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert body.index("second@example.com") < body.index("first@example.com")
    confirm_url = confirm_url_of(rows[0].text_body)
    assert f'<a href="{confirm_url}">{confirm_url}</a>' in body
    assert 'sandbox title="HTML part' in body and "srcdoc=\"&lt;!doctype html&gt;" in body
    assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'none': no script runs


def test_dev_mail_does_not_exist_in_production_or_testing(app, client, database_url):
    production = create_app({"APP_ENV": "production", "SECRET_KEY": STRONG_KEY,
                             "SQLALCHEMY_DATABASE_URI": database_url})
    assert production.test_client().get("/dev/mail").status_code == 404
    assert client.get("/dev/mail").status_code == 404
    with production.app_context():
        db.engine.dispose()
