"""Walks through every page a reader or a staff member can reach, in a real browser.

Each tour drives the page and yields a short name whenever a page worth checking is
showing; the accessibility test runs axe there, the screenshot test photographs it."""

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from extensions import db
from models import Enrollment, MailingList, Subscription
from services.core.tokens import Purpose, make_row_token, make_token
from services.courses import enrollments
from services.courses.enrollment_details import EnrollmentInput
from services.subscriptions import subscriptions


@dataclass
class ReaderLinks:
    """Mailed links of a subscriber with two lists and of three people in a one-seat cohort."""

    confirm: str
    unsubscribe: str
    privacy: str
    enrol_confirm: str
    waitlist_confirm: str
    cancel: str
    stop_mail: str
    course_slug: str


def seed_readers(origin, newsletter, make_cohort) -> ReaderLinks:
    db.session.add(MailingList(slug="courses-news", name="Course News", description="New dates.", is_public=True))
    db.session.commit()
    subscriptions.subscribe("reader@example.com", "Ada Reader", origin)
    subscriptions.subscribe("reader@example.com", "Ada Reader", origin, list_slug="courses-news")
    subscription = db.session.scalars(select(Subscription).order_by(Subscription.id)).first()
    cohort = make_cohort(capacity=1, label="Spring cohort")
    for email in ("seated@example.com", "waiting@example.com"):
        enrollments.enroll(cohort.course.slug, EnrollmentInput(cohort=str(cohort.id), full_name="Course Reader",
                                                               email=email), origin)
    seated, waiting = db.session.scalars(select(Enrollment).order_by(Enrollment.id)).all()
    enrollments.confirm(make_row_token(Purpose.CONFIRM_ENROLLMENT, seated.id, seated.link_key), origin)

    def link(purpose: Purpose, path: str, row, **extra) -> str:
        return f"{path}/{make_row_token(purpose, row.id, row.link_key, **extra)}"

    return ReaderLinks(
        confirm=link(Purpose.CONFIRM_SUBSCRIPTION, "/confirm", subscription),
        unsubscribe=link(Purpose.UNSUBSCRIBE, "/unsubscribe", subscription.subscriber, l=subscription.list_id),
        privacy=f"/privacy/{make_token(Purpose.PRIVACY, {'email': 'reader@example.com'})}",
        enrol_confirm=link(Purpose.CONFIRM_ENROLLMENT, "/enrollments/confirm", seated),
        waitlist_confirm=link(Purpose.CONFIRM_ENROLLMENT, "/enrollments/confirm", waiting),
        cancel=link(Purpose.CANCEL_ENROLLMENT, "/enrollments/cancel", seated),
        stop_mail=link(Purpose.STOP_COURSE_MAIL, "/enrollments/stop-mail", waiting),
        course_slug=cohort.course.slug,
    )


def reader_tour(page, roster: str, links: ReaderLinks) -> Iterator[str]:
    """Every public page, error pages included. The confirm pages' auto-submit script is
    held back, so that the page a mail scanner (or a reader without JavaScript) sees is checked."""
    page.route("**/autosubmit.js", lambda route: route.abort())

    def press(button: str) -> None:
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()

    page.goto(f"{roster}/subscribe")
    yield "subscribe"
    press("Subscribe")
    yield "subscribe-errors"
    page.get_by_label("Email Address").fill("new@example.com")
    page.get_by_label("Course News").check()  # two public lists: boxes, none ticked for the reader
    press("Subscribe")
    yield "subscribe-check-inbox"
    page.goto(f"{roster}/confirm/not-a-real-link")
    yield "confirm-bad-link"
    page.goto(roster + links.confirm)
    yield "confirm"
    press("Confirm my subscription")
    yield "confirmed"
    page.goto(roster + links.unsubscribe)
    yield "unsubscribe"
    press("Save my choices")
    yield "preferences-saved"
    page.goto(roster + links.unsubscribe)
    press("Unsubscribe")
    yield "unsubscribed"

    page.goto(f"{roster}/courses")
    yield "courses"
    page.goto(f"{roster}/courses/{links.course_slug}")
    yield "course"
    page.goto(f"{roster}/courses/{links.course_slug}/enroll")
    yield "enrol"
    press("Enrol")
    yield "enrol-errors"
    page.get_by_label("Full name").fill("New Reader")
    page.get_by_label("Email address").fill("new@example.com")
    press("Enrol")
    yield "enrol-check-inbox"
    page.goto(roster + links.enrol_confirm)
    yield "enrolment-confirm"
    press("Confirm my enrolment")
    yield "enrolled"
    page.goto(roster + links.waitlist_confirm)
    press("Confirm my enrolment")
    yield "waitlisted"
    page.goto(roster + links.stop_mail)
    yield "stop-mail"
    press("Stop optional mail")
    yield "mail-stopped"
    page.goto(roster + links.cancel)
    yield "cancel"
    press("Cancel my enrolment")
    yield "cancelled"
    page.goto(f"{roster}/enrollments/cancel/not-a-real-link")
    yield "enrolment-bad-link"

    page.goto(f"{roster}/embed/form")
    yield "embed-form"
    press("Subscribe")
    yield "embed-form-errors"

    page.goto(f"{roster}/privacy")
    yield "privacy"
    press("Email me a link")
    yield "privacy-errors"
    page.get_by_label("Email Address").fill("reader@example.com")
    press("Email me a link")
    yield "privacy-check-inbox"
    page.goto(roster + links.privacy)
    yield "privacy-link"
    page.get_by_label("I understand that erasure cannot be undone").check()
    press("Erase my data")
    yield "privacy-erased"
    page.goto(f"{roster}/no-such-page")
    yield "not-found"
