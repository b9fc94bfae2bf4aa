"""axe-core on every public page and every console page, in the light and the dark
colour scheme: no serious or critical violation. Keyboard-only sign-ups, with errors
announced and tied to their fields."""

from contextlib import suppress
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from werkzeug.exceptions import HTTPException

from tests.browser.tours import reader_tour, seed_readers
from tests.console_pages import console_paths, is_download, seed_console

BLOCKING = {"serious", "critical"}
# Endpoints that answer no HTML page: data, scripts, images and stylesheets, and the
# Mailchimp drop-in's two paths (a post answered as the embed post is, and a JSONP script).
NOT_PAGES = {"public.healthz", "public.index", "public.privacy_export", "embed.script", "static",
             "public.favicon", "public.publication_logo", "public.publication_stylesheet",
             "embed.mailchimp_post", "embed.mailchimp_jsonp"}
axe = Axe()


def blocking_violations(page, name: str) -> list[str]:
    found = axe.run(page).response["violations"]
    return [f"{name}: {v['id']} ({v['impact']}) at {[n['target'] for n in v['nodes']]}: {v['help']}"
            for v in found if v["impact"] in BLOCKING]


def record_endpoints(app, page) -> set[str]:
    """The endpoints of the documents the page loads, as they load."""
    seen: set[str] = set()
    adapter = app.url_map.bind("localhost")

    def loaded(response):
        if response.request.resource_type == "document":
            with suppress(HTTPException):  # a 404 page has no endpoint
                seen.add(adapter.match(urlsplit(response.url).path, method=response.request.method)[0])

    page.on("response", loaded)
    return seen


@pytest.fixture(params=["light", "dark"])
def scheme(request):
    return request.param


def test_every_public_page_passes_axe(app, roster, new_page, scheme, origin, newsletter, make_cohort):
    links = seed_readers(origin, newsletter, make_cohort)
    page = new_page(color_scheme=scheme)
    visited = record_endpoints(app, page)
    problems = [problem for name in reader_tour(page, roster, links) for problem in blocking_violations(page, name)]
    assert problems == []
    public_pages = {rule.endpoint for rule in app.url_map.iter_rules()
                    if rule.endpoint.split(".")[0] in {"public", "courses", "embed"}
                    and rule.methods & {"GET", "POST"} and rule.endpoint not in NOT_PAGES
                    and not rule.endpoint.startswith("api.")}
    assert public_pages - visited == set()


def test_every_console_page_passes_axe(app, roster, new_page, scheme, sign_in_staff, origin, newsletter,
                                       make_cohort):
    ids = seed_console(make_cohort, origin)
    page = new_page(color_scheme=scheme)
    problems, checked = [], set()
    page.goto(f"{roster}/admin/login")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    problems += blocking_violations(page, "sign-in with errors")
    sign_in_staff(page)
    for endpoint, path in console_paths(app, ids):
        if is_download(path):
            continue
        page.goto(roster + path)
        problems += blocking_violations(page, path)
        checked.add(endpoint)
        if page.get_by_role("button", name="Save").count():  # an empty form, to see its errors
            page.get_by_role("button", name="Save").click()  # the browser may hold back a form with required fields
            page.wait_for_load_state()
            problems += blocking_violations(page, f"{path} with errors")
    assert problems == []
    assert {"admin.dashboard", "admin.subscribers", "admin.subscriber", "admin.cohort_enrollments"} <= checked
