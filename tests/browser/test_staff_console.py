"""Staff in a real browser: sign in through the form, filter the subscribers."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import Subscriber
from services.core.tokens import Purpose, make_row_token
from services.subscriptions import subscriptions


def test_sign_in_and_filter_subscribers(roster, page, sign_in_staff, newsletter, origin):
    for email, name in [("ada@example.com", "Ada Lovelace"), ("grace@example.com", "Grace Hopper"),
                        ("alan@example.com", "Alan Turing")]:
        subscriptions.subscribe(email, name, origin)
    alan = db.session.scalar(select(Subscriber).where(Subscriber.email == "alan@example.com"))
    subscriptions.unsubscribe(make_row_token(Purpose.UNSUBSCRIBE, alan.id, alan.link_key, l=newsletter.id), origin)

    sign_in_staff(page)
    page.get_by_role("navigation", name="Staff console").get_by_role("link", name="Subscribers").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)  # waits for the page the click opens

    page.get_by_label("Search email or name").fill("Hopper")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"q=Hopper"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("grace@example.com")
    assert page.get_by_label("Search email or name").input_value() == "Hopper"  # the filter stays shown

    page.get_by_role("link", name="Clear").click()
    expect(page.get_by_label("Search email or name")).to_have_value("")
    page.get_by_label("Status").select_option("unsubscribed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=unsubscribed"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("alan@example.com")
    assert page.get_by_label("Status").input_value() == "unsubscribed"
