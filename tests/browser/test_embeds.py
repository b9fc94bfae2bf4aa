"""A real browser on the demo article page (its own origin) signs up through each of
the three embeds, confirms through the mailed link and unsubscribes."""

import pytest
from sqlalchemy import select

import demo_site
from extensions import db
from models import ConsentEvent, MailingList, Subscriber, Subscription, SubscriptionStatus
from tests.support import link_path


@pytest.fixture
def sites(app, roster, serve):
    """Roster and the demo article site as real servers on two loopback origins."""
    db.session.add(MailingList(slug="international-relations", name="International Relations Updates",
                               is_public=True, is_default=True))
    db.session.commit()
    demo_url = serve(demo_site.create_app({"ROSTER_URL": roster}), host="localhost")
    app.config["EMBED_ALLOWED_ORIGINS"] = [demo_url]
    return roster, f"{demo_url}/world/{demo_site.ARTICLE_SLUG}"


def subscribe_with_html_form(page, article_url, email):
    page.goto(article_url)
    box = page.locator("section", has=page.locator("#signup-html"))
    box.get_by_label("Email Address").fill(email)
    box.get_by_label("Full Name").fill("Html Form")
    box.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    assert page.get_by_role("link", name="Back to the article").get_attribute("href") == article_url


def subscribe_with_iframe(page, article_url, email):
    page.goto(article_url)
    frame = page.frame_locator("iframe[title^=Subscribe]")
    frame.get_by_label("Email Address").fill(email)
    frame.get_by_label("Full Name").fill("Iframe Form")
    frame.get_by_role("button", name="Subscribe").click()
    frame.get_by_role("heading", name="Check your inbox").wait_for()
    assert page.url == article_url  # the answer stayed inside the frame


def subscribe_with_script(page, article_url, email):
    page.goto(article_url)
    widget = page.locator("[data-roster-form]")
    widget.get_by_label("Email Address").fill("not an address")
    widget.get_by_label("Email Address").press("Enter")  # keyboard submission, then a click below
    error = widget.locator(".roster-error")
    error.wait_for()
    assert "valid email address" in error.inner_text()
    assert widget.get_by_label("Email Address").get_attribute("aria-invalid") == "true"
    widget.get_by_label("Email Address").fill(email)
    widget.get_by_label("Full Name").fill("Script Widget")
    widget.get_by_role("button", name="Subscribe").click()
    widget.get_by_role("status").wait_for()
    assert "Thank you" in widget.get_by_role("status").inner_text()
    assert page.url == article_url


def test_subscribe_confirm_and_unsubscribe_through_each_embed(sites, page, deliver):
    roster_url, article_url = sites
    blocked = []  # what our Content-Security-Policy stopped, in the page or its frame
    page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    signups = {"html@example.com": subscribe_with_html_form, "iframe@example.com": subscribe_with_iframe,
               "script@example.com": subscribe_with_script}
    for email, subscribe in signups.items():
        subscribe(page, article_url, email)

    mails = {mail["To"].addresses[0].addr_spec: mail for mail in deliver(3)}
    assert set(mails) == set(signups)
    for mail in mails.values():
        page.goto(roster_url + link_path(mail, "confirm"))  # autosubmits, as for a reader
        page.get_by_role("heading", name="You're subscribed").wait_for()
        page.goto(roster_url + link_path(mail, "unsubscribe"))
        page.get_by_role("button", name="Unsubscribe").click()
        page.get_by_text("unsubscribed", exact=False).first.wait_for()

    db.session.expire_all()
    rows = db.session.execute(
        select(Subscriber.email, Subscriber.full_name, Subscription.status, Subscription.source_url,
               Subscription.confirmed_at)
        .join(Subscription).order_by(Subscriber.email)).all()
    assert [(r.email, r.full_name, r.status, r.source_url) for r in rows] == [
        ("html@example.com", "Html Form", SubscriptionStatus.UNSUBSCRIBED, article_url),
        ("iframe@example.com", "Iframe Form", SubscriptionStatus.UNSUBSCRIBED, article_url),
        ("script@example.com", "Script Widget", SubscriptionStatus.UNSUBSCRIBED, article_url),
    ]
    assert all(r.confirmed_at is not None for r in rows)
    # the script widget sends the article's title with its URL
    script_utm = db.session.scalar(select(Subscription.utm).join(Subscriber).where(
        Subscriber.email == "script@example.com"))
    assert script_utm["title"].startswith("Two foreign ministers call for a summit")
    assert blocked == []
    assert sorted(db.session.scalars(select(ConsentEvent.form).where(
        ConsentEvent.action == "subscribe_requested"))) == ["api", "embed", "embed"]
