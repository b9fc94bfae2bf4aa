"""A reader subscribes and enrols with the keyboard alone; errors are announced and
tied to their fields."""

from sqlalchemy import select

from extensions import db
from models import Enrollment, Subscriber


def tab_to(page, accessible_name: str, limit: int = 30) -> None:
    """Press Tab until the focused element has this label or text; fail if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement;
            return (e.labels && e.labels[0] ? e.labels[0].innerText : e.innerText || '').trim(); }""")
        if focused.startswith(accessible_name):
            return
    raise AssertionError(f"Tab never reached {accessible_name!r}")


def assert_error_is_announced_and_tied(page, label: str, message: str) -> None:
    summary = page.get_by_role("alert")
    assert summary.get_attribute("aria-live") == "assertive"
    assert "Please correct the" in summary.inner_text()  # "the field" or "the 2 fields"
    field = page.get_by_label(label)
    assert field.get_attribute("aria-invalid") == "true"
    described_by = field.get_attribute("aria-describedby").split()
    error = page.locator(f"[id='{described_by[0]}']")
    assert message in error.inner_text()


def test_subscribe_with_the_keyboard_alone(roster, newsletter, page):
    page.goto(f"{roster}/subscribe")
    tab_to(page, "Skip to content")
    page.keyboard.press("Enter")
    tab_to(page, "Full Name")
    page.keyboard.type("Keyboard Reader")
    tab_to(page, "Email Address")
    page.keyboard.type("not an address")
    tab_to(page, "Subscribe", limit=3)  # straight on to the button: nothing hidden in between
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_error_is_announced_and_tied(page, "Email Address", "valid email address")

    tab_to(page, "Email Address")
    page.keyboard.press("Control+A")
    page.keyboard.type("keys@example.com")
    page.keyboard.press("Enter")  # submits the form from the field
    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert db.session.scalar(select(Subscriber.email)) == "keys@example.com"


def test_enrol_with_the_keyboard_alone(roster, make_cohort, page):
    make_cohort(label="Spring cohort")
    make_cohort(label="Autumn cohort", starts_in_days=60)
    page.goto(f"{roster}/courses/ir-certificate/enroll")
    tab_to(page, "Full name")
    page.keyboard.type("Keyboard Student")
    tab_to(page, "Enrol", limit=30)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_error_is_announced_and_tied(page, "Email address", "Enter your email address")

    page.goto(f"{roster}/courses/ir-certificate/enroll")
    tab_to(page, "Spring cohort")
    page.keyboard.press("ArrowDown")  # radio buttons: arrows move between the dates
    tab_to(page, "Full name")
    page.keyboard.type("Keyboard Student")
    tab_to(page, "Email address")
    page.keyboard.type("student@example.com")
    tab_to(page, "Enrol")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your inbox").wait_for()
    enrollment = db.session.scalar(select(Enrollment))
    assert enrollment.email == "student@example.com" and enrollment.cohort.label == "Autumn cohort"
