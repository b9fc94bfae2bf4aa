"""The iframe embed on an article page of another origin, pasted as the console's Embed
page gives it: its colours follow the snippet's theme, not the reader's setting, and the
frame fits its content, the shorter thank-you included."""

import pytest

from extensions import db
from models import MailingList
from services.console.embed_snippets import snippets

LIGHT_PAPER = "rgb(250, 249, 246)"


def article_app(body: str):
    """A plain light article page (it declares no colour scheme) holding `body`."""
    page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Ministers call for a summit</title>"
            f"</head><body style='background:#fff;color:#111'><h1>Ministers call for a summit</h1>{body}</body></html>")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode()]

    return app


@pytest.fixture
def article(app, roster, serve):
    """An article page on its own origin carrying the list's iframe snippet."""
    mailing_list = MailingList(slug="updates", name="Weekly Updates", is_public=True, is_default=True)
    db.session.add(mailing_list)
    db.session.commit()
    url = serve(article_app(snippets(mailing_list).iframe), host="localhost")
    app.config["EMBED_ALLOWED_ORIGINS"] = [url]
    return url


def frame_height(page) -> float:
    return page.evaluate("document.getElementById('roster-frame-updates').getBoundingClientRect().height")


def test_the_light_frame_stays_light_on_a_light_article_when_the_reader_prefers_dark(article, new_page):
    page = new_page(color_scheme="dark")
    page.goto(article)
    frame = page.frame_locator("#roster-frame-updates")
    frame.get_by_label("Email Address").wait_for()
    root = frame.locator("html")
    assert root.evaluate("element => getComputedStyle(element).backgroundColor") == LIGHT_PAPER
    assert root.evaluate("element => getComputedStyle(element).colorScheme") == "light"


def test_the_frame_fits_its_form_and_then_its_thank_you(article, new_page):
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto(article)
    frame = page.frame_locator("#roster-frame-updates")
    frame.get_by_label("Email Address").wait_for()

    def fits() -> bool:
        content = frame.locator("html").evaluate("element => element.getBoundingClientRect().height")
        return abs(frame_height(page) - content) <= 1

    page.wait_for_function("document.getElementById('roster-frame-updates').style.height !== '380px'")
    assert fits()
    form_height = frame_height(page)
    frame.get_by_label("Email Address").fill("frame@example.com")
    frame.get_by_role("button", name="Subscribe").click()
    frame.get_by_role("heading", name="Check your inbox").wait_for()
    page.wait_for_function(f"document.getElementById('roster-frame-updates').getBoundingClientRect().height"
                           f" < {form_height}")
    assert fits()
