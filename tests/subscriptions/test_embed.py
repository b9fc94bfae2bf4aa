"""Sign-up from article pages on another origin: form post, Mailchimp fields, iframe, script."""

import html
import re

import pytest
from sqlalchemy import func, select

from extensions import db
from models import ConsentEvent, OutboxMessage, Subscriber, Subscription, SubscriptionStatus
from tests.support import ARTICLE_ORIGIN, ARTICLE_URL


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def embed_post(client, data, *, origin=ARTICLE_ORIGIN, referer=ARTICLE_URL, query="", **headers):
    if origin:
        headers["Origin"] = origin
    if referer:
        headers["Referer"] = referer
    return client.post(f"/embed/subscribe{query}", data=data, headers=headers)


def test_post_from_allowed_origin_makes_pending_subscription_and_one_mail(
        client, newsletter, embed_origins, deliver):
    response = embed_post(client, {"email": "Reader@Example.com", "full_name": "Ada Reader"},
                          referer=ARTICLE_URL + "?utm_source=twitter&utm_campaign=summit&page=2")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Check your inbox" in page
    assert f'href="{ARTICLE_URL}?page=2"' in page  # back to the article
    subscription = db.session.scalars(select(Subscription)).one()
    assert subscription.status == SubscriptionStatus.PENDING
    assert subscription.source_url == ARTICLE_URL + "?page=2"
    assert subscription.utm == {"utm_source": "twitter", "utm_campaign": "summit"}
    assert subscription.subscriber.full_name == "Ada Reader"
    event = db.session.scalars(select(ConsentEvent)).one()
    assert (event.form, event.wording_version) == ("embed", "subscribe-v1")
    [mail] = deliver(1)
    assert mail["To"] == "Ada Reader <Reader@example.com>"
    assert "/confirm/" in mail.get_body(("plain",)).get_content()


def test_a_subscription_without_campaign_parameters_stores_no_utm(client, newsletter, embed_origins):
    assert embed_post(client, {"email": "plain@example.com"}).status_code == 200  # the sign-up statement
    subscriber = Subscriber(email="orm@example.com")
    db.session.add(Subscription(subscriber=subscriber, mailing_list=newsletter, utm=None))  # the ORM
    db.session.commit()
    # SQL NULL, not the JSON text 'null': "nothing came with the URL" is `utm IS NULL`
    assert db.session.scalar(select(func.count()).select_from(Subscription).where(Subscription.utm.is_(None))) == 2


TITLE = "Ministers call for a <summit> & more"


def test_the_post_keeps_the_articles_title_tidied_and_cut_short(client, newsletter, embed_origins):
    assert embed_post(client, {"email": "one@example.com", "source_title": f"  {TITLE}\n"}).status_code == 200
    long_title = "Bell\x07 " + "x" * 10_000
    assert embed_post(client, {"email": "two@example.com", "source_title": long_title}).status_code == 200
    titles = dict(db.session.execute(select(Subscriber.email, Subscription.utm).join(Subscription.subscriber)).all())
    assert titles["one@example.com"] == {"title": TITLE}
    assert titles["two@example.com"] == {"title": "Bell " + "x" * 295}


def test_a_title_without_an_article_is_not_kept(client, newsletter, embed_origins):
    assert embed_post(client, {"email": "one@example.com", "source_title": TITLE}, referer=None).status_code == 200
    assert db.session.scalars(select(Subscription.utm)).one() is None


def test_the_thank_you_page_leads_back_to_the_article_once(client, newsletter, embed_origins):
    page = embed_post(client, {"email": "one@example.com"}).get_data(as_text=True)
    assert page.count("Back to the article") == 1


@pytest.mark.parametrize("headers", [
    {"origin": "https://evil.example", "referer": ARTICLE_URL},
    {"origin": None, "referer": "https://evil.example/page"},
    {"origin": None, "referer": None},
    {"origin": "https://news.example.evil.example", "referer": None},
])
def test_post_from_another_origin_is_refused_and_stores_nothing(client, newsletter, embed_origins, deliver, headers):
    response = embed_post(client, {"email": "victim@example.com"}, **headers)
    assert response.status_code == 403
    assert count(Subscriber) == count(Subscription) == count(OutboxMessage) == 0
    assert deliver() == []


def test_filled_honeypot_looks_like_success_and_stores_and_sends_nothing(client, newsletter, embed_origins, deliver):
    person = embed_post(client, {"email": "person@example.com"})
    db.session.rollback()
    bot = embed_post(client, {"email": "bot@example.com", "website": "http://spam.example"})
    assert bot.status_code == person.status_code == 200
    assert bot.get_data(as_text=True) == person.get_data(as_text=True)
    assert db.session.scalars(select(Subscriber.email)).all() == ["person@example.com"]
    assert len(deliver(1)) == 1


MAILCHIMP_FORM = {
    "EMAIL": "mc@example.com", "FNAME": " Grace ", "LNAME": "Hopper",
    "b_0123456789abcdef_fedcba9876": "", "gdpr[4711]": "Y", "subscribe": "Subscribe",
}


def test_mailchimp_field_names_make_a_subscriber_with_joined_name(client, newsletter, make_list,
                                                                  embed_origins, deliver):
    make_list("briefing")
    response = embed_post(client, MAILCHIMP_FORM, query="?list=briefing")
    assert response.status_code == 200
    subscription = db.session.scalars(select(Subscription)).one()
    assert subscription.subscriber.full_name == "Grace Hopper"
    assert subscription.mailing_list.slug == "briefing"
    assert db.session.scalars(select(ConsentEvent.form)).one() == "mailchimp"
    assert deliver(1)[0]["To"] == "Grace Hopper <mc@example.com>"


def test_mailchimp_honeypot_filled_is_a_bot(client, newsletter, embed_origins, deliver):
    response = embed_post(client, {**MAILCHIMP_FORM, "b_0123456789abcdef_fedcba9876": "gotcha"})
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    assert count(Subscriber) == 0 and deliver() == []


def test_next_on_an_allowed_origin_redirects_and_a_foreign_next_is_ignored(client, newsletter, embed_origins):
    allowed = embed_post(client, {"email": "a@example.com", "next": f"{ARTICLE_ORIGIN}/thanks"})
    assert allowed.status_code == 303 and allowed.headers["Location"] == f"{ARTICLE_ORIGIN}/thanks"
    for foreign in ("https://evil.example/phish", "//evil.example/x", "javascript:alert(1)",
                    f"{ARTICLE_ORIGIN}.evil.example/"):
        response = embed_post(client, {"email": "b@example.com", "next": foreign})
        assert response.status_code == 200, foreign
        assert "Location" not in response.headers
        assert "evil" not in response.get_data(as_text=True)


def test_json_answer_when_asked_with_cors_for_the_origin(client, newsletter, embed_origins):
    ok = embed_post(client, {"email": "json@example.com"}, Accept="application/json")
    assert ok.status_code == 202 and ok.json["status"] == "accepted"
    assert ok.headers["Access-Control-Allow-Origin"] == ARTICLE_ORIGIN
    bad = embed_post(client, {"email": "not an address"}, Accept="application/json")
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.json["errors"][0]["field"] == "email"


def test_invalid_address_shows_the_form_again_with_the_error(client, newsletter, embed_origins):
    response = embed_post(client, {"email": "nope", "full_name": "N. O."})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in page and "Enter a valid email address" in page
    assert 'value="N. O."' in page and count(Subscriber) == 0


def test_iframe_form_is_framable_only_by_allowed_origins_and_needs_no_cookie(app, newsletter, embed_origins):
    fresh = app.test_client(use_cookies=False)
    response = fresh.get("/embed/form?list=updates&source=" + ARTICLE_URL)
    assert response.status_code == 200
    csp = directives(response)
    assert csp["frame-ancestors"] == ["'self'", ARTICLE_ORIGIN, "http://roster.test"]
    assert "evil" not in str(csp) and "*" not in str(csp)
    assert "X-Frame-Options" not in response.headers and "Set-Cookie" not in response.headers
    page = response.get_data(as_text=True)
    assert 'name="csrf_token"' not in page and 'name="view" type="hidden" value="frame"' in page
    assert f'name="source" type="hidden" value="{ARTICLE_URL}"' in page


def test_iframe_post_answers_inside_the_frame_and_records_the_article(app, client, newsletter, embed_origins):
    form = client.get("/embed/form?list=updates", headers={"Referer": ARTICLE_URL}).get_data(as_text=True)
    source = re.search(r'name="source" type="hidden" value="([^"]+)"', form).group(1)
    response = embed_post(client, {"email": "frame@example.com", "view": "frame", "list": "updates",
                                   "source": source},
                          origin="http://roster.test", referer="http://roster.test/embed/form?list=updates")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="frame"' in page and "Check your inbox" in page
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    assert db.session.scalars(select(Subscription.source_url)).one() == ARTICLE_URL


def test_the_frame_sends_the_title_its_page_gave_it(client, newsletter, embed_origins):
    form = client.get("/embed/form", query_string={"list": "updates", "source": ARTICLE_URL,
                                                    "source_title": TITLE}).get_data(as_text=True)
    assert 'name="source_title" type="hidden" value="Ministers call for a &lt;summit&gt; &amp; more"' in form
    title = html.unescape(re.search(r'name="source_title" type="hidden" value="([^"]+)"', form).group(1))
    embed_post(client, {"email": "frame@example.com", "view": "frame", "source": ARTICLE_URL, "source_title": title},
               origin="http://roster.test", referer="http://roster.test/embed/form")
    assert db.session.scalars(select(Subscription.utm)).one() == {"title": TITLE}


@pytest.mark.parametrize(("query", "root", "scheme"), [
    ("theme=light", 'class="theme-light"', "light"),
    ("theme=dark&transparent=1", 'class="theme-dark transparent"', "dark"),
    ("theme=<b>", 'class="theme-auto"', "light dark"),
])
def test_the_frame_takes_the_article_pages_theme_through_to_its_answer(client, newsletter, embed_origins,
                                                                       query, root, scheme):
    form = client.get(f"/embed/form?list=updates&{query}").get_data(as_text=True)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', form).group(1))
    answer = embed_post(client, {"email": "frame@example.com", "view": "frame", "list": "updates"},
                        query=action.removeprefix("/embed/subscribe")).get_data(as_text=True)
    for page in (form, answer):
        assert root in page and f'<meta name="color-scheme" content="{scheme}">' in page
        assert "/static/embed-frame.js" in page and "/publication.css" in page  # fits its height; the accent


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


def test_every_embed_page_carries_the_full_policy(app, client, newsletter, embed_origins):
    """Forms post only to Roster (and back to the article sites their `next` leads to);
    no plug-ins, no <base>, scripts only our own."""
    pages = {
        "form": client.get("/embed/form?list=updates"),
        "thanks": embed_post(client, {"email": "ada@example.com"}),
        "form with errors": embed_post(client, {"email": "not an address"}),
        "refused origin": embed_post(client, {"email": "ada@example.com"}, origin="https://evil.example",
                                     referer=None),
        "not found": client.get("/embed/nothing-here"),
        "wrong method": client.get("/embed/subscribe"),
    }
    assert [pages[name].status_code for name in pages] == [200, 200, 400, 403, 404, 405]
    for name, response in pages.items():
        csp = directives(response)
        assert csp["default-src"] == ["'self'"], name
        assert csp["script-src"][0] == "'self'" and csp["script-src"][1].startswith("'nonce-"), name
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"], name
        assert csp["form-action"] in (["'self'"], [ARTICLE_ORIGIN, "http://roster.test"]), name
        assert "frame-ancestors" in csp, name
    assert directives(pages["form"])["form-action"] == [ARTICLE_ORIGIN, "http://roster.test"]


def test_embed_script_renders_a_form_that_posts_to_the_api(client):
    response = client.get("/embed.js")
    script = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert '"http://roster.test/api/v1/subscriptions"' in script
    assert '"http://roster.test/embed/subscribe"' in script
    assert "data-roster-form" in script and "fetch(" in script
    assert "source_title: value(form, \"source_title\") || articleTitle()" in script
    assert "document.title.slice(0, 300)" in script


def test_per_address_rate_limit_applies_across_ips(app, client, newsletter, embed_origins):
    app.config.update(RATELIMIT_ENABLED=True, ADDRESS_POST_RATE_LIMIT="2 per minute")
    from extensions import limiter
    limiter.init_app(app)
    limiter.reset()
    codes = [
        client.post("/embed/subscribe", data={"email": "Target@Example.com" if n % 2 else "target@example.com"},
                    headers={"Origin": ARTICLE_ORIGIN}, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_a_newsletter_that_does_not_exist_is_said_on_the_form_and_nothing_is_stored(
        client, newsletter, embed_origins):
    # The list comes in a hidden field (or the action URL): its error must show in the
    # form's summary, not on a field nobody sees.
    response = embed_post(client, {"email": "reader@example.com", "full_name": "Ada Reader"}, query="?list=nope")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "That newsletter does not exist." in page
    assert "marked below" not in page  # no visible field is wrong
    assert count(Subscriber) == count(Subscription) == count(OutboxMessage) == 0
    as_json = embed_post(client, {"email": "reader@example.com"}, query="?list=nope", Accept="application/json")
    assert as_json.status_code == 422
    assert as_json.get_json()["errors"] == [{"field": "list", "message": "That newsletter does not exist."}]
