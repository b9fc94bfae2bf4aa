"""The pages a reader sees name the list and the publication, repeat what the reader
needs to check, and always lead back to the publisher's site or article."""

import re

from services.core import publication
from services.core.audit import CLI
from services.core.publication import PublicationFields
from tests.subscriptions.test_public_views import post_subscribe
from tests.support import ARTICLE_URL, link_path

SITE = "https://meridian.example/"


def test_the_heading_names_the_list(client, newsletter):
    page = client.get("/subscribe").get_data(as_text=True)
    assert "<h1>Subscribe to International Relations Updates</h1>" in page
    assert "Weekly analysis." in page and "Subscribe to our updates" not in page


def test_several_public_lists_are_offered_with_their_descriptions(client, newsletter, make_list, deliver):
    make_list("culture", name="Culture Weekly")
    page = client.get("/subscribe").get_data(as_text=True)
    # Boxes the reader ticks: none is ticked for them.
    assert re.search(r'type="checkbox" id="list-updates" name="list" value="updates"\s+aria-describedby', page)
    assert 'value="culture"' in page and 'id="list-updates-about">Weekly analysis.' in page
    named = client.get("/subscribe?list=updates").get_data(as_text=True)
    assert "Subscribe to International Relations Updates" in named
    assert post_subscribe(client, "reader@example.com", list="culture").status_code == 303
    [mail] = deliver(1)
    assert "Culture Weekly" in mail["Subject"]


def test_check_your_inbox_repeats_the_address_and_links_back_to_the_article(client, newsletter, embed_origins):
    response = post_subscribe(client, "Reader@Example.com", source=ARTICLE_URL)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>Reader@Example.com</strong>" in page and "Wrong address?" in page
    assert f'<a href="{ARTICLE_URL}">Back to the article</a>' in page


def test_a_source_on_no_allowed_site_gets_no_link_back(client, newsletter):
    response = post_subscribe(client, "reader@example.com", source="https://evil.example/phish")
    assert "evil.example" not in client.get(response.headers["Location"]).get_data(as_text=True)


def test_confirmed_unsubscribe_and_error_pages_lead_back_to_the_site(client, newsletter, deliver):
    publication.save(CLI, PublicationFields(name="The Meridian Review", site_url=SITE))
    post_subscribe(client, "leaving@example.com")
    [mail] = deliver(1)
    confirmed = client.post(link_path(mail, "confirm")).get_data(as_text=True)
    assert "What happens next" in confirmed
    assert f'<a href="{SITE}">Continue reading The Meridian Review</a>' in confirmed
    leaving = client.get(link_path(mail, "unsubscribe")).get_data(as_text=True)
    assert "This page is for <strong>leaving@example.com</strong>" in leaving
    for page in (client.get("/nowhere"), client.get("/confirm/not-a-token")):
        assert f'<a href="{SITE}">Go to The Meridian Review</a>' in page.get_data(as_text=True)
