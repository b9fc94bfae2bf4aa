"""The newsletter pages in a real browser, at a phone's and a desktop's width, light and
dark: axe finds no serious or critical violation on the console's pages (with the mail's
preview framed in them) or on the public archive; a screenshot of each for people."""

import pytest

from services.core.audit import CLI
from services.newsletters import campaigns
from services.worker.runner import Worker
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_accessibility import blocking_violations

BODY = ("# Ministers meet again\n\nRead **the analysis** [here](https://news.example/analysis).\n\n"
        "> A quote.\n\n- one\n- two")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_newsletter_pages_pass_axe(app, roster, new_page, sign_in_staff, newsletter, readers, smtp_sink,
                                   screenshot_dir, scheme, width):
    readers(newsletter, 3)
    sent = campaigns.create(CLI, campaigns.CampaignFields(newsletter.id, "The week in review", "In brief", BODY))
    campaigns.send(CLI, sent.id)
    Worker(app).run_once()
    draft = campaigns.create(CLI, campaigns.CampaignFields(newsletter.id, "Next week", "", BODY))
    page = new_page(color_scheme=scheme, viewport=PHONE if width == "phone" else DESKTOP)
    sign_in_staff(page)
    problems = []
    pages = {
        "newsletters": "/admin/newsletters",
        "newsletter-new": "/admin/newsletters/new",
        "newsletter-draft": f"/admin/newsletters/{draft.id}?view={width}&scheme={scheme}",
        "newsletter-sent": f"/admin/newsletters/{sent.id}?view={width}&scheme={scheme}",
        "archive": "/newsletters/updates",
        "issue": "/newsletters/updates/the-week-in-review",
    }
    for name, path in pages.items():
        page.goto(roster + path)
        page.wait_for_load_state("load")
        problems += blocking_violations(page, path)
        page.screenshot(path=str(screenshot_dir / f"{name}-{width}-{scheme}.png"), full_page=True)
    page.goto(roster + "/admin/newsletters/new")
    with page.expect_navigation():  # the form posts back to itself: the URL stays the same
        page.get_by_role("button", name="Save the draft").click()
    assert page.get_by_text("Enter a subject.").count() >= 1
    problems += blocking_violations(page, "new newsletter with errors")
    assert problems == []
