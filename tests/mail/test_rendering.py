"""Mail built once per shape and filled per reader gives the very mail a full render gives."""

from pathlib import Path

import pytest

from services.core import publication
from services.core.languages import in_language
from services.mail import rendering

TEMPLATES = sorted({path.stem for path in (Path(__file__).resolve().parents[2] / "templates" / "email").glob("*.txt")
                    if not path.stem.startswith("_") and path.stem != "campaign"})
TRICKY = "O'Brien & <Sons> \"Ltd\" — Zoë"


def every_value(**changes) -> dict:
    """Every name a mail template reads, with values HTML must escape."""
    return {
        "recipient_name": TRICKY, "list_name": f"List {TRICKY}", "site_name": f"Site {TRICKY}",
        "confirm_url": "https://roster.example/confirm/abc?x=1&y=<2>",
        "preferences_url": "https://roster.example/preferences/def?a=1&b=2",
        "unsubscribe_url": "https://roster.example/unsubscribe/ghi?l=3&k='4'",
        "cancel_url": "https://roster.example/cancel/jkl&m", "course_title": f"Course {TRICKY}",
        "cohort_label": f"Cohort {TRICKY}", "contact_email": "courses+a&b@example.com",
        "course_url": "https://roster.example/courses/x?y=1&z=2", "enroll_url": "https://roster.example/enrol?a&b",
        "privacy_url": "https://roster.example/privacy/mno&p", "archive_url": "https://news.example/a?b&c",
        "logo_url": "https://roster.example/logo.png?v=2&x", "starts_on": "1 March 2027", "ends_on": "5 March 2027",
        "waitlist_position": 3, "hours": 2, "given_by_staff": True, "moved_by_staff": False,
        "paragraphs": ("First <p> & so on", "Second\nline"), **changes}


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("language", ["en", "fr", "ar"])
@pytest.mark.parametrize("variant", ["all given", "no name", "nothing optional"])
def test_every_mail_template_fills_as_it_renders(app, template, language, variant):
    changes = {"all given": {}, "no name": {"recipient_name": ""}, "nothing optional": {
        "recipient_name": "", "logo_url": None, "archive_url": None, "waitlist_position": None,
        "given_by_staff": False, "moved_by_staff": True}}[variant]
    context = every_value(publication=publication.current(), **changes)
    with in_language(language):
        rendering.render_parts(template, every_value(publication=publication.current(), recipient_name="Someone"))
        filled = rendering.render_parts(template, context)  # from the shape the first call made
        assert filled == (rendering.render(f"email/{template}.txt", context),
                          rendering.render(f"email/{template}.html", context))
    assert TRICKY not in filled[1]  # escaped in HTML, as Jinja escapes


def test_each_shape_is_rendered_once_and_filled_for_each_reader(app, monkeypatch):
    rendered = []
    render = rendering.render
    monkeypatch.setattr(rendering, "render", lambda name, context: rendered.append(name) or render(name, context))
    rendering._shapes.clear()
    mails = [rendering.render_parts("confirm_subscription", every_value(
        publication=publication.current(), recipient_name=f"Reader {n}", confirm_url=f"https://r.example/c/{n}"))
        for n in range(50)]
    assert rendered == ["email/confirm_subscription.txt", "email/confirm_subscription.html"]
    assert all(f"Reader {n}" in text and f"https://r.example/c/{n}" in html for n, (text, html) in enumerate(mails))
    rendering.render_parts("confirm_subscription", every_value(publication=publication.current(), recipient_name=""))
    assert len(rendered) == 4  # "Hello," instead of "Hello <name>,": a shape of its own
