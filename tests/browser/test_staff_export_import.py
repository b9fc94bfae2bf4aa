"""Staff in a real browser: a filtered CSV export downloaded, and a Mailchimp import
followed from upload through the worker's dry run to a job page whose progress bar fills."""

import csv
import re

from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import Subscriber, Subscription, SubscriptionStatus
from tests.data.test_imports import FIXTURES

DANGEROUS_NAME = "=cmd|' /C calc'!A0"
MAILCHIMP_HEADER = ["Email Address", "First Name", "Last Name", "Full Name", "List", "Status", "Source",
                    "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "UNSUB_TIME"]
# More than one of the import's 1000-row batches, so the job page shows progress on the way.
IMPORTED_ROWS = 1500
IMPORT_TIMEOUT_MS = 60_000


def test_staff_filter_then_export_download(roster, page, sign_in_staff, newsletter):
    for email, name, status in [("evil@example.com", DANGEROUS_NAME, SubscriptionStatus.CONFIRMED),
                                ("ada@example.com", "Ada Lovelace", SubscriptionStatus.CONFIRMED),
                                ("grace@example.com", "Grace Hopper", SubscriptionStatus.PENDING),
                                ("alan@example.com", "Alan Turing", SubscriptionStatus.UNSUBSCRIBED)]:
        db.session.add(Subscription(subscriber=Subscriber(email=email, full_name=name),
                                    mailing_list=newsletter, status=status))
    db.session.commit()

    sign_in_staff(page)
    page.get_by_role("navigation", name="Staff console").get_by_role("link", name="Subscribers").click()
    page.get_by_label("Status").select_option("confirmed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=confirmed"))
    expect(page.locator("table tbody tr")).to_have_count(2)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("subscribers-")
    with open(download.path(), encoding="utf-8-sig", newline="") as exported:
        header, *rows = list(csv.reader(exported))

    assert header == MAILCHIMP_HEADER
    by_email = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_email) == {"evil@example.com", "ada@example.com"}
    assert {row["Status"] for row in by_email.values()} == {"confirmed"}
    assert by_email["evil@example.com"]["Full Name"] == "'" + DANGEROUS_NAME


def mailchimp_csv(rows: int) -> bytes:
    """Mailchimp's subscribed-members file with `rows` generated people, from the fixture's first row."""
    header, first_row = (FIXTURES / "subscribed_members_export_4f7e1c2a9b.csv").read_text().splitlines()[:2]
    fixture_email = next(csv.reader([first_row]))[0]
    lines = [header] + [first_row.replace(fixture_email, f"reader{n}@example.com") for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_import_progress_bar_reaches_100(roster, worker, page, sign_in_staff, newsletter):
    sign_in_staff(page)
    page.goto(f"{roster}/admin/imports")
    page.get_by_label("File (.zip or .csv)").set_input_files({
        "name": "subscribed_members_export_browser.csv", "mimeType": "text/csv",
        "buffer": mailchimp_csv(IMPORTED_ROWS)})
    page.get_by_role("button", name="Check the file").click()

    # The page refreshes itself while the worker checks the file.
    page.get_by_role("heading", name="Dry run of subscribed_members_export_browser.csv").wait_for(
        timeout=IMPORT_TIMEOUT_MS)
    figures = page.locator("dl.figures")
    expect(figures.locator("div", has=page.locator("dt", has_text="Rows")).locator("dd")).to_have_text(
        str(IMPORTED_ROWS))
    expect(figures.locator("div", has=page.locator("dt", has_text="Invalid")).locator("dd")).to_have_text("0")
    page.get_by_role("button", name="Start import").click()

    page.get_by_role("heading", name="Import of subscribed_members_export_browser.csv").wait_for()
    progress = page.locator("progress#progress")
    # The page reloads itself every second until the job is done; the last load has no refresh.
    expect(page.locator("p", has_text="Status:").locator("strong")).to_have_text("done",
                                                                                 timeout=IMPORT_TIMEOUT_MS)
    expect(progress).to_have_attribute("max", str(IMPORTED_ROWS))
    expect(progress).to_have_attribute("value", str(IMPORTED_ROWS))
    assert progress.evaluate("bar => bar.position") == 1  # the bar is full
    assert page.locator('meta[http-equiv="refresh"]').count() == 0

    db.session.rollback()  # see what the worker committed
    imported = db.session.scalars(select(Subscriber.email).join(Subscription).where(
        Subscription.list_id == newsletter.id, Subscription.status == SubscriptionStatus.CONFIRMED)).all()
    assert sorted(imported) == sorted(f"reader{n}@example.com" for n in range(IMPORTED_ROWS))
