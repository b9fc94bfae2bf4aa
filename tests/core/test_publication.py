"""The publication settings: validated, audited, read through a per-process cache, and
shown to readers on every hosted page and mail instead of Roster's name."""

import io
import re

import pytest
from sqlalchemy import select, update

from extensions import db
from models import AuditEvent, PublicationSettings
from services.core import publication
from services.core.audit import CLI
from services.core.errors import InvalidInput
from services.core.publication import PublicationFields
from services.subscriptions import subscriptions
from tests.support import csrf_token, sign_in

# The smallest PNG: a 1x1 transparent pixel.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
MERIDIAN = PublicationFields(name="The Meridian Review", site_url="https://meridian.example/",
                             sender_name="Meridian Newsletters", postal_address="1 Quay Street\nPortsmouth PO1 2AB",
                             accent_colour="#1E5AA8")


@pytest.fixture
def meridian(app):
    return publication.save(CLI, MERIDIAN, logo_upload=PNG)


def test_saved_settings_are_cleaned_and_audited(meridian):
    assert (meridian.name, meridian.site_url, meridian.sender_name) == (
        "The Meridian Review", "https://meridian.example/", "Meridian Newsletters")
    assert meridian.accent_colour == "#1e5aa8" and meridian.has_logo
    assert meridian.postal_lines == ["1 Quay Street", "Portsmouth PO1 2AB"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "publication.update"))
    assert "accent_colour" in event.details["changed"]


def test_the_environment_fills_what_the_settings_leave_empty(app):
    app.config.update(SITE_NAME="Env News", SITE_URL="https://env.example",
                      MAIL_DEFAULT_SENDER="Env Desk <d@env.example>")
    found = publication.current()
    assert (found.name, found.site_url, found.sender_name, found.has_logo) == (
        "Env News", "https://env.example", "Env Desk", False)
    publication.save(CLI, PublicationFields(name="Saved Name"))
    assert publication.current().sender_name == "Saved Name"  # a saved name outranks the environment's sender
    assert publication.sender("Env Desk <d@env.example>") == "Saved Name <d@env.example>"


@pytest.mark.parametrize(("fields", "logo", "field"), [
    (PublicationFields(accent_colour="red;}body{display:none"), None, "accent_colour"),
    (PublicationFields(accent_colour="#12345"), None, "accent_colour"),
    (PublicationFields(site_url="javascript:alert(1)"), None, "site_url"),
    (PublicationFields(sender_name="Eve\r\nBcc: x@y.test"), None, "sender_name"),
    (PublicationFields(), b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo"),
    (PublicationFields(), PNG + b"\0" * publication.LOGO_MAX_BYTES, "logo"),
])
def test_unsafe_values_are_refused_and_change_nothing(app, fields, logo, field):
    with pytest.raises(InvalidInput) as refused:
        publication.save(CLI, fields, logo_upload=logo)
    assert refused.value.field == field
    assert db.session.scalar(select(PublicationSettings)) is None


def test_each_process_reads_the_settings_once_in_a_while(meridian, app):
    db.session.execute(update(PublicationSettings).values(name="Changed Elsewhere"))
    db.session.commit()
    assert publication.current().name == "The Meridian Review"  # another process's save shows after the TTL
    app.config["PUBLICATION_CACHE_SECONDS"] = 0
    publication.forget_cached()
    assert publication.current().name == "Changed Elsewhere"


def all_mail_text(mail) -> str:
    parts = [mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()]
    return "\n".join([*parts, str(mail["From"]), str(mail["Subject"])])


def test_mail_carries_the_publication_and_never_roster(meridian, newsletter, origin, deliver):
    subscriptions.subscribe("reader@example.com", "Ada Reader", origin)
    [mail] = deliver(1)
    assert str(mail["From"]) == "Meridian Newsletters <roster@localhost>"
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    for part in (text, html):
        assert "The Meridian Review" in part and "https://meridian.example/" in part
        assert "1 Quay Street" in part and "Portsmouth PO1 2AB" in part
    assert "#1e5aa8" in html and "/publication/logo?v=" in html
    assert "Roster" not in all_mail_text(mail)


def test_hosted_pages_show_the_publication_and_link_back_to_its_site(meridian, client, newsletter):
    page = client.get("/subscribe").get_data(as_text=True)
    assert "Roster" not in page
    assert re.search(r'<header class="site-header">\s*<a href="https://meridian.example/"', page)
    assert f'/publication.css?v={meridian.version}' in page and "<title>Subscribe · The Meridian Review" in page
    css = client.get(f"/publication.css?v={meridian.version}")
    assert css.mimetype == "text/css" and "#1e5aa8" in css.get_data(as_text=True)
    logo = client.get(f"/publication/logo?v={meridian.version}")
    assert (logo.status_code, logo.mimetype, logo.data) == (200, "image/png", PNG)
    assert "sandbox" in logo.headers["Content-Security-Policy"]
    assert client.get("/favicon.ico").mimetype == "image/svg+xml"


def test_only_an_owner_edits_the_publication_on_its_console_page(client, make_staff, newsletter):
    make_staff("owner@example.com")
    make_staff("editor@example.com", role="editor")
    sign_in(client, "editor@example.com")
    assert client.get("/admin/publication").status_code == 403
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    sign_in(client, "owner@example.com")
    data = {"csrf_token": csrf_token(client, "/admin/publication"), "name": "The Meridian Review",
            "site_url": "https://meridian.example/", "sender_name": "", "postal_address": "1 Quay Street",
            "accent_colour": "#zzzzzz", "logo": (io.BytesIO(PNG), "logo.png")}
    refused = client.post("/admin/publication", data=data, content_type="multipart/form-data")
    assert refused.status_code == 400 and "six hexadecimal digits" in refused.get_data(as_text=True)
    data.update(accent_colour="#1e5aa8", logo=(io.BytesIO(PNG), "logo.png"))
    saved = client.post("/admin/publication", data=data, content_type="multipart/form-data")
    assert saved.status_code == 303
    assert publication.current().name == "The Meridian Review" and publication.current().has_logo
    assert "The Meridian Review" in client.get("/subscribe").get_data(as_text=True)
