"""Screenshots of the main pages at phone and desktop widths, light and dark, into
artifacts/screenshots/ (CI keeps the folder), for people to look at."""

import pytest

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.tours import reader_tour, seed_readers

READER_PAGES = {"subscribe", "subscribe-errors", "confirm", "unsubscribe", "course", "enrol", "enrol-errors",
                "waitlisted", "embed-form", "privacy-link"}
CONSOLE_PAGES = {"dashboard": "/admin/", "subscribers": "/admin/subscribers", "courses": "/admin/courses"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_screenshots_of_the_main_pages(roster, new_page, sign_in_staff, screenshot_dir, scheme, width,
                                       origin, newsletter, make_cohort):
    links = seed_readers(origin, newsletter, make_cohort)
    viewport = PHONE if width == "phone" else DESKTOP
    saved = []
    page = new_page(color_scheme=scheme, viewport=viewport)
    for name in reader_tour(page, roster, links):
        if name in READER_PAGES:
            saved.append(shoot(page, screenshot_dir, name, width, scheme))
    sign_in_staff(page)
    for name, path in CONSOLE_PAGES.items():
        page.goto(roster + path)
        saved.append(shoot(page, screenshot_dir, f"console-{name}", width, scheme))
    assert len(saved) == len(READER_PAGES) + len(CONSOLE_PAGES)
    assert all(path.stat().st_size > 1000 for path in saved)


def shoot(page, folder, name: str, width: str, scheme: str):
    path = folder / f"{name}-{width}-{scheme}.png"
    page.screenshot(path=path, full_page=True)
    return path
