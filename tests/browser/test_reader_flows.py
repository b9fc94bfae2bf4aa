"""A reader in a real browser, with JavaScript and without: subscribe, confirm from the
mail, unsubscribe; enrol, confirm, cancel, and the next person on the waitlist gets the
seat; ask for their data by mail and erase it."""

import pytest
from sqlalchemy import select

from extensions import db
from models import Enrollment, Subscriber, Subscription, SubscriptionStatus
from services.subscriptions import subscriptions
from tests.support import link_path


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def reader(request, new_page):
    """A reader's page; `reader.javascript` says whether scripts run."""
    page = new_page(java_script_enabled=request.param)
    page.javascript = request.param
    return page


def mail_to(mails, email: str, subject_part: str = ""):
    return next(m for m in reversed(mails)
                if m["To"].addresses[0].addr_spec == email and subject_part in m["Subject"])


def open_confirm_link(page, url: str, button: str, outcome_heading) -> None:
    """With JavaScript the confirm page submits itself; without, the reader presses its button."""
    page.goto(url)
    if not page.javascript:
        page.get_by_role("button", name=button).click()
    page.get_by_role("heading", name=outcome_heading).wait_for()


def test_subscribe_confirm_and_unsubscribe_on_the_hosted_pages(roster, newsletter, reader, deliver):
    reader.goto(f"{roster}/subscribe")
    reader.get_by_label("Full Name").fill("Ada Reader")
    reader.get_by_label("Email Address").fill("ada@example.com")
    reader.get_by_role("button", name="Subscribe").click()
    reader.get_by_role("heading", name="Check your inbox").wait_for()

    [mail] = deliver(1)
    open_confirm_link(reader, roster + link_path(mail, "confirm"), "Confirm my subscription", "You're subscribed")
    assert db.session.scalar(select(Subscription.status)) == SubscriptionStatus.CONFIRMED
    db.session.rollback()  # end the read, so the next one sees what the server wrote since

    reader.goto(roster + link_path(mail, "unsubscribe"))
    reader.get_by_role("button", name="Unsubscribe").click()
    reader.get_by_role("heading", name="You're unsubscribed").wait_for()
    assert db.session.scalar(select(Subscription.status)) == SubscriptionStatus.UNSUBSCRIBED


def enrol(page, roster: str, name: str, email: str) -> None:
    page.goto(f"{roster}/courses")
    page.get_by_role("link", name="Course ir-certificate", exact=True).click()
    page.get_by_role("link", name="Enrol now").click()
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Enrol").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()


def test_enrol_confirm_cancel_and_the_waitlist_moves_up(roster, make_cohort, reader, deliver):
    make_cohort(capacity=1)
    enrol(reader, roster, "First Reader", "first@example.com")
    enrol(reader, roster, "Second Reader", "second@example.com")
    mails = deliver(2)
    open_confirm_link(reader, roster + link_path(mail_to(mails, "first@example.com"), "enrollments/confirm"),
                      "Confirm my enrolment", "You're enrolled")
    open_confirm_link(reader, roster + link_path(mail_to(mails, "second@example.com"), "enrollments/confirm"),
                      "Confirm my enrolment", "You're on the waitlist")
    assert "number 1 on the waitlist" in reader.get_by_role("status").inner_text()

    reader.goto(roster + link_path(mail_to(deliver(4), "first@example.com", "enrolled"), "enrollments/cancel"))
    reader.get_by_role("button", name="Cancel my enrolment").click()
    reader.get_by_role("heading", name="Your enrolment is cancelled").wait_for()

    # The second reader is told by mail, and their own page now speaks of a seat they hold.
    promoted = mail_to(deliver(6), "second@example.com", "seat")
    reader.goto(roster + link_path(promoted, "enrollments/cancel"))
    assert "Your seat will go to the next person" in reader.get_by_role("main").inner_text()
    assert dict(db.session.execute(select(Enrollment.email, Enrollment.status)).all()) == {
        "first@example.com": "cancelled", "second@example.com": "confirmed"}


def test_ask_for_my_data_by_mail_download_it_and_erase_it(app, roster, newsletter, origin, reader, deliver):
    subscriptions.subscribe("held@example.com", "Held Reader", origin)
    deliver(1)
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0  # the sign-up mail does not hold back the link
    reader.goto(f"{roster}/privacy")
    reader.get_by_label("Email Address").fill("held@example.com")
    reader.get_by_role("button", name="Email me a link").click()
    reader.get_by_role("heading", name="Check your inbox").wait_for()

    reader.goto(roster + link_path(mail_to(deliver(2), "held@example.com", "data"), "privacy"))
    with reader.expect_download() as download:
        reader.get_by_role("link", name="Download my data").click()
    assert "held@example.com" in download.value.path().read_text()
    reader.get_by_label("I understand that erasure cannot be undone").check()
    reader.get_by_role("button", name="Erase my data").click()
    reader.get_by_role("heading", name="Your data is erased").wait_for()
    assert db.session.scalar(select(Subscriber.email)) is None
