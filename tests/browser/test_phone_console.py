"""The console on a phone: at 390 px no page scrolls sideways (wide tables scroll inside
their own box), and no button's label breaks over two lines."""

from dataclasses import replace

from services.subscriptions import subscriptions
from tests.browser.conftest import PHONE
from tests.console_pages import console_paths, is_download, seed_console

LONG_EMAIL = "firstname.middlename.lastname.department@a-rather-long-newsroom-domain.example"
IPV6 = "2001:db8:85a3:1234:5678:8a2e:370:7334"

# Every button whose label wraps, with its text: one line is one client rect per word run.
WRAPPED_BUTTONS = """() => [...document.querySelectorAll('button, a.button, input[type=submit]')]
  .filter(el => el.offsetParent !== null)
  .filter(el => {
    const range = document.createRange(); range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    return tops.size > 1;
  }).map(el => el.textContent.trim())"""

# The innermost elements reaching past the viewport's right edge, to say what widens a page.
OVERFLOWING = """(limit) => [...document.body.querySelectorAll('*')]
  .filter(el => el.getBoundingClientRect().right > limit + 1)
  .filter(el => ![...el.children].some(child => child.getBoundingClientRect().right > limit + 1))
  .slice(0, 3).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
                         + ' ' + el.textContent.trim().slice(0, 30))"""


def test_no_console_page_scrolls_sideways_at_390_px(app, roster, new_page, sign_in_staff, make_staff, origin,
                                                     newsletter, make_cohort):
    ids = seed_console(make_cohort, origin)
    subscriptions.subscribe(LONG_EMAIL, "A Reader With A Long Name From Far Away",
                            replace(origin, ip=IPV6, source_url="https://news.example/2026/11/" + "a-long-slug-" * 8))
    make_staff(LONG_EMAIL, role="editor")
    page = new_page(viewport=PHONE)
    sign_in_staff(page)
    wide, wrapped = [], []
    for _, path in console_paths(app, ids):
        if is_download(path):
            continue
        page.goto(roster + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide.append(f"{path}: {width}px {page.evaluate(OVERFLOWING, PHONE['width'])}")
        wrapped += [f"{path}: {label!r}" for label in page.evaluate(WRAPPED_BUTTONS)]
    assert wide == [], wide
    assert wrapped == [], wrapped
