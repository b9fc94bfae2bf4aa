"""Mailchimp's own paths: a Mailchimp snippet works with only its host changed, the
JSONP GET of mc-validate.js included, under every guard of the embed post."""

import json
import re

import pytest
from sqlalchemy import func, select

from extensions import db
from models import MailingList, Subscriber, Subscription
from services.core.audit import CLI
from services.core.errors import InvalidInput
from services.subscriptions import lists
from services.subscriptions.lists import ListFields
from tests.support import ARTICLE_ORIGIN, ARTICLE_URL

U, AUDIENCE = "0a1b2c3d4e5f60718293a4b5c", "4e5f6a7b8c"


@pytest.fixture
def audience_list(newsletter):
    """A second, non-default list that carries the publisher's old Mailchimp audience."""
    return lists.create_list(CLI, ListFields(name="Morning Briefing", slug="briefing",
                                             mailchimp_account_id=U, mailchimp_audience_id=AUDIENCE))


def jsonp(client, callback="jQuery1900_17", referer=ARTICLE_URL, **fields):
    query = {"u": U, "id": AUDIENCE, "c": callback, **fields}
    return client.get("/subscribe/post-json", query_string=query, headers={"Referer": referer} if referer else {})


def answer_of(response, callback="jQuery1900_17") -> dict:
    body = response.get_data(as_text=True)
    match = re.fullmatch(rf"/\*\*/{re.escape(callback)}\((.*)\);", body)
    assert match, body
    return json.loads(match.group(1))


def list_slugs() -> list[str]:
    return list(db.session.scalars(select(MailingList.slug).join(Subscription).order_by(Subscription.id)))


def test_jsonp_signup_answers_as_mailchimp_into_the_list_of_that_audience(client, audience_list, embed_origins,
                                                                         deliver):
    response = jsonp(client, EMAIL="reader@example.com", FNAME="Ada", LNAME="Reader", **{f"b_{U}_{AUDIENCE}": ""})
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert answer_of(response)["result"] == "success"
    assert list_slugs() == ["briefing"]
    assert db.session.scalar(select(Subscriber.full_name)) == "Ada Reader"
    [mail] = deliver(1)
    assert "Morning Briefing" in mail["Subject"]


def test_jsonp_answers_alike_for_every_address_and_one_mail_per_window(client, audience_list, embed_origins,
                                                                      deliver):
    first = answer_of(jsonp(client, EMAIL="twice@example.com"))
    second = answer_of(jsonp(client, EMAIL="twice@example.com"))
    assert first == second
    assert len(deliver(1)) == 1


def test_jsonp_reports_a_bad_address_beside_the_email_field(client, audience_list, embed_origins):
    answer = answer_of(jsonp(client, EMAIL="nope@"))
    assert answer["result"] == "error" and answer["msg"].startswith("0 - Enter a valid email address")
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_a_filled_honeypot_is_answered_as_a_person_and_stores_nothing(client, audience_list, embed_origins):
    answer = answer_of(jsonp(client, EMAIL="bot@example.com", **{f"b_{U}_{AUDIENCE}": "spam"}))
    assert answer["result"] == "success"
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


@pytest.mark.parametrize("callback", ["", "alert(1)", "a;b", "cb//", "1cb", "eval", "window.eval", "a" * 65,
                                      "x.y.z.w.v", "cb\u2028", "<script>"])
def test_only_plain_callback_names_are_called(client, audience_list, embed_origins, callback):
    response = jsonp(client, callback=callback, EMAIL="reader@example.com")
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


@pytest.mark.parametrize("referer", [None, "https://elsewhere.example/page", "null"])
def test_jsonp_from_a_site_not_allowed_is_refused(client, audience_list, embed_origins, referer):
    response = jsonp(client, referer=referer, EMAIL="reader@example.com")
    assert response.status_code == 403 and response.mimetype == "text/plain"
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_the_answer_cannot_break_out_of_the_script(client, audience_list, embed_origins):
    body = jsonp(client, EMAIL="</script><script>alert(1)</script>@example.com").get_data(as_text=True)
    assert "<" not in body and ">" not in body


def test_mailchimp_form_post_by_host_alone_picks_the_audiences_list(client, audience_list, embed_origins):
    response = client.post(f"/subscribe/post?u={U}&id={AUDIENCE}", data={"EMAIL": "post@example.com"},
                           headers={"Origin": ARTICLE_ORIGIN, "Referer": ARTICLE_URL})
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    assert list_slugs() == ["briefing"]
    client.post("/subscribe/post?u=other&id=unknown", data={"EMAIL": "other@example.com"},
                headers={"Origin": ARTICLE_ORIGIN})
    assert list_slugs() == ["briefing", "updates"]  # an audience no list carries: the default list


def test_an_audience_belongs_to_one_list_and_ids_are_plain(app, audience_list):
    with pytest.raises(InvalidInput) as taken:
        lists.create_list(CLI, ListFields(name="Other", slug="other", mailchimp_audience_id=AUDIENCE))
    assert taken.value.field == "mailchimp_audience_id"
    with pytest.raises(InvalidInput) as odd:
        lists.create_list(CLI, ListFields(name="Other", slug="other", mailchimp_audience_id="x&id=y"))
    assert odd.value.field == "mailchimp_audience_id"
