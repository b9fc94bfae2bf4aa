"""Console pages for connecting other systems: API tokens (owners) and embed snippets;
embed sign-ups counted by article on the dashboard."""

import hashlib
import html
import re

from sqlalchemy import select

from extensions import db
from models import ApiToken, AuditEvent, Subscription
from services.console import dashboard
from tests.support import ARTICLE_ORIGIN, ARTICLE_URL, csrf_token, link_path, sign_in


def new_token(page: str) -> str:
    return re.search(r'id="new-token"><code>(roster_[^<]+)</code>', page).group(1)


def test_owner_creates_a_token_shown_once_that_reads_the_api(signed_in_client, staff_user):
    token = csrf_token(signed_in_client, "/admin/api-tokens")
    response = signed_in_client.post("/admin/api-tokens", data={
        "csrf_token": token, "label": "Nightly CRM sync", "owner": staff_user.email, "scope": "read"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    plain = new_token(page)
    assert "will not be shown again" in page
    row = db.session.scalars(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert (row.label, row.scope, row.staff_user_id) == ("Nightly CRM sync", "read", staff_user.id)
    assert "api_token.create" in db.session.scalars(select(AuditEvent.action)).all()

    api = signed_in_client.get("/api/v1/subscribers", headers={"Authorization": f"Bearer {plain}"})
    assert api.status_code == 200
    listing = signed_in_client.get("/admin/api-tokens").get_data(as_text=True)
    assert plain not in listing  # shown once only
    for shown in ("Nightly CRM sync", row.prefix, "read", staff_user.email, "active"):
        assert shown in listing
    assert "never" not in listing  # the API call above was its last use


def test_token_form_errors_are_shown_beside_the_field(signed_in_client, staff_user):
    token = csrf_token(signed_in_client, "/admin/api-tokens")
    for data, message in (({"label": "", "owner": staff_user.email, "scope": "read"}, "Say what the token is for"),
                          ({"label": "x", "owner": "ghost@example.com", "scope": "read"}, "Not a valid choice"),
                          ({"label": "x", "owner": staff_user.email, "scope": "admin"}, "Not a valid choice")):
        response = signed_in_client.post("/admin/api-tokens", data={"csrf_token": token, **data})
        assert response.status_code == 400 and message in response.get_data(as_text=True), data
    assert db.session.scalars(select(ApiToken)).all() == []


def test_owner_revokes_a_token(signed_in_client, issue_api_token):
    plain = issue_api_token("read-write")
    row = db.session.scalars(select(ApiToken)).one()
    token = csrf_token(signed_in_client, "/admin/api-tokens")
    response = signed_in_client.post(f"/admin/api-tokens/{row.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/api-tokens"
    assert "revoked" in signed_in_client.get("/admin/api-tokens").get_data(as_text=True)
    assert signed_in_client.get("/api/v1/subscribers",
                                headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    missing = signed_in_client.post("/admin/api-tokens/999999/revoke", data={"csrf_token": token},
                                    follow_redirects=True)
    assert "No API token 999999" in missing.get_data(as_text=True)


def test_editors_may_not_see_or_make_tokens(client, make_staff, staff_user, issue_api_token):
    issue_api_token("read")
    editor = make_staff("editor@example.com", role="editor")
    sign_in(client, editor.email)
    token = csrf_token(client, "/admin/")
    assert client.get("/admin/api-tokens").status_code == 403
    assert client.post("/admin/api-tokens", data={"csrf_token": token, "label": "x", "owner": editor.email,
                                                  "scope": "read-write"}).status_code == 403
    row_id = db.session.scalars(select(ApiToken.id)).one()
    assert client.post(f"/admin/api-tokens/{row_id}/revoke", data={"csrf_token": token}).status_code == 403
    assert db.session.get(ApiToken, row_id).revoked_at is None and len(db.session.scalars(select(ApiToken)).all()) == 1
    nav = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/api-tokens"' not in nav and 'href="/admin/embed"' in nav


def snippets_on_page(page: str) -> list[str]:
    return [html.unescape(code) for code in re.findall(r'<textarea id="[^"]+" class="snippet"[^>]*>(.*?)</textarea>',
                                                        page, re.S)]


def test_embed_page_gives_each_public_list_its_snippets_from_base_url(app, signed_in_client, newsletter, make_list,
                                                                        embed_origins):
    make_list("members-only", public=False)
    app.config["BASE_URL"] = "https://roster.example-news.com"
    page = signed_in_client.get("/admin/embed").get_data(as_text=True)
    assert ARTICLE_ORIGIN in page and "members-only" not in page
    form, mailchimp, iframe, script = snippets_on_page(page)
    assert '<form method="post" action="https://roster.example-news.com/embed/subscribe?list=updates">' in form
    assert 'name="email"' in form and 'name="full_name"' in form and 'name="website"' in form
    assert all(f'name="{name}"' in mailchimp for name in ("EMAIL", "FNAME", "LNAME", "b_roster"))
    assert 'src="https://roster.example-news.com/embed/form?list=updates&amp;theme=light"' in iframe
    # The lines that fit the frame to its form take a height only from Roster and from that frame.
    assert 'event.origin !== "https://roster.example-news.com"' in iframe
    assert 'event.source !== frame.contentWindow' in iframe and '"roster:height"' in iframe
    # the article's title goes to Roster's origin only, after the checks above
    assert 'event.source.postMessage({type: "roster:title", title: document.title}, event.origin)' in iframe
    assert script == ('<div data-roster-form data-list="updates"></div>\n'
                      '<script src="https://roster.example-news.com/embed.js" async></script>')


def test_embed_page_previews_each_snippet_and_offers_to_copy_it(signed_in_client, newsletter, embed_origins):
    page = signed_in_client.get("/admin/embed").get_data(as_text=True)
    assert page.count("data-copy=") == 4 and page.count(" hidden>Copy</button>") == 4  # shown by the script
    assert '<iframe class="embed-preview" sandbox srcdoc="&lt;form method=&#34;post&#34;' in page
    assert '<div class="embed-live"><iframe id="roster-frame-updates"' in page
    assert "/static/console-embed.js" in page


def test_embed_page_warns_when_no_site_may_embed(signed_in_client, newsletter):
    assert "No site is allowed yet" in signed_in_client.get("/admin/embed").get_data(as_text=True)


def post_snippet(client, snippet: str, values: dict, referer: str):
    """Submit a pasted snippet as a browser on the article page would."""
    action = re.search(r'action="([^"]+)"', snippet).group(1).removeprefix(client.application.config["BASE_URL"])
    fields = dict.fromkeys(re.findall(r'name="([^"]+)"', snippet), "")
    return client.post(action, data={**fields, **values}, headers={"Origin": ARTICLE_ORIGIN, "Referer": referer})


def test_the_snippets_sign_people_up_counted_by_article_on_the_dashboard(app, signed_in_client, newsletter,
                                                                         embed_origins, deliver):
    form, mailchimp, _, _ = snippets_on_page(signed_in_client.get("/admin/embed").get_data(as_text=True))
    campaign = ARTICLE_URL + "?utm_source=newsletter&utm_campaign=summit"
    assert post_snippet(signed_in_client, form, {"email": "ada@example.com", "full_name": "Ada Lovelace"},
                        campaign).status_code == 200
    assert post_snippet(signed_in_client, mailchimp, {"EMAIL": "alan@example.com", "FNAME": "Alan"},
                        ARTICLE_URL + "?utm_medium=social").status_code == 200
    signed_in_client.post(link_path(next(m for m in deliver(2) if m["To"].addresses[0].addr_spec ==
                                         "ada@example.com"), "confirm"))

    stored = db.session.scalars(select(Subscription).order_by(Subscription.id)).all()
    assert [(s.source_url, s.utm) for s in stored] == [
        (ARTICLE_URL, {"utm_source": "newsletter", "utm_campaign": "summit"}),
        (ARTICLE_URL, {"utm_medium": "social"})]
    [top] = dashboard.top_sources(db.session)
    assert (top.source_url, top.signups, top.confirmed) == (ARTICLE_URL, 2, 1)
    page = signed_in_client.get("/admin/").get_data(as_text=True)
    row = re.search(r'<td class="url"><a [^>]*>([^<]+)</a>(?:(?!</td>).)*</td>\s*'
                    r'<td class="num">(\d+)</td><td class="num">(\d+)</td>', page, re.S)
    assert row.groups() == (ARTICLE_URL, "1", "2")
    assert "utm_" not in page
