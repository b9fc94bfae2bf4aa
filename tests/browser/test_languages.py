"""The sign-up and enrolment forms in Arabic (right to left) and Hindi, at a phone's and a
desktop's width: axe finds no serious or critical violation, the page is in the language
and direction asked for, nothing spills sideways, and a screenshot of each is kept
(docs/screenshots/ with ROSTER_DOCS_SCREENSHOTS=1, else artifacts/screenshots/)."""

import os
from pathlib import Path

import pytest

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_accessibility import blocking_violations

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ("docs" if os.environ.get("ROSTER_DOCS_SCREENSHOTS") else "artifacts") / "screenshots"


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("language", ["ar", "hi"])
def test_subscribe_and_enrolment_forms_in_arabic_and_hindi(roster, new_page, newsletter, make_cohort, language,
                                                           width):
    cohort = make_cohort()
    page = new_page(locale=language, viewport=PHONE if width == "phone" else DESKTOP)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, path in (("subscribe", "/subscribe"), ("enrol", f"/courses/{cohort.course.slug}/enroll")):
        page.goto(roster + path)
        html = page.locator("html")
        assert (html.get_attribute("lang"), html.get_attribute("dir")) == (language, "rtl" if language == "ar"
                                                                          else "ltr")
        if name == "enrol":  # with the errors shown, as a reader who sends it empty sees it
            page.get_by_role("button", name={"ar": "سجّل", "hi": "दाख़िला लें"}[language]).click()
            page.locator(".error").first.wait_for()
        problems += blocking_violations(page, f"{name} ({language}, {width})")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} spills sideways"
        page.screenshot(path=SHOTS / f"{name}-{language}-{width}.png", full_page=True)
    assert problems == []
