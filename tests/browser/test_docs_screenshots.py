"""The README's screenshots, into docs/screenshots/: the pages a reader and a staff member
see most, at a phone's and a desktop's width, light and dark, with ROSTER_DOCS_SCREENSHOTS=1
(everyday runs photograph the same pages into artifacts/ instead, and check each was drawn)."""

import os
from pathlib import Path

import pytest

from extensions import db
from models import MailingList
from services.console.embed_snippets import snippets
from services.core import publication
from services.core.audit import CLI
from services.core.publication import PublicationFields
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_embed_frames import article_app
from tests.browser.tours import reader_tour, seed_readers

ROOT = Path(__file__).resolve().parents[2]
# Everyday runs photograph the same pages into artifacts/; ROSTER_DOCS_SCREENSHOTS=1 renews docs/.
DOCS = ROOT / "docs" / "screenshots" if os.environ.get("ROSTER_DOCS_SCREENSHOTS") else \
    ROOT / "artifacts" / "screenshots" / "docs"
READER_PAGES = {"subscribe", "subscribe-check-inbox", "confirmed", "unsubscribe", "enrol-errors"}
CONSOLE_PAGES = {"console-dashboard": "/admin/", "console-subscribers": "/admin/subscribers",
                 "console-embed": "/admin/embed", "console-publication": "/admin/publication"}

@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_docs_screenshots(app, roster, serve, new_page, sign_in_staff, scheme, width, origin, newsletter,
                          make_cohort):
    publication.save(CLI, PublicationFields(name="The Meridian Review", site_url="https://meridian.example/",
                                            sender_name="Meridian Newsletters", accent_colour="#1E5AA8"))
    links = seed_readers(origin, newsletter, make_cohort)
    DOCS.mkdir(parents=True, exist_ok=True)
    page = new_page(color_scheme=scheme, viewport=PHONE if width == "phone" else DESKTOP)

    def shoot(name: str) -> Path:
        path = DOCS / f"{name}-{width}-{scheme}.png"
        page.screenshot(path=path, full_page=True)
        return path

    saved = [shoot(name) for name in reader_tour(page, roster, links) if name in READER_PAGES]
    mailing_list = db.session.query(MailingList).filter_by(slug=newsletter.slug).one()
    article = serve(article_app(snippets(mailing_list).iframe), host="localhost")
    app.config["EMBED_ALLOWED_ORIGINS"] = [article]
    page.goto(article)
    page.frame_locator("iframe").get_by_label("Email Address").wait_for()
    page.wait_for_timeout(300)  # the frame fits its height
    saved.append(shoot("embed-iframe"))
    sign_in_staff(page)
    for name, path in CONSOLE_PAGES.items():
        page.goto(roster + path)
        saved.append(shoot(name))
    assert all(path.stat().st_size > 1000 for path in saved)
