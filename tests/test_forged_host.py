"""Absolute URLs come from BASE_URL only: a forged Host or X-Forwarded-Host header
reaches no page, script, mail, redirect or origin check."""

import re

from sqlalchemy import func, select

from app import create_app
from extensions import db
from models import Subscriber
from tests.support import ARTICLE_URL, STAFF_PASSWORD

EVIL = "evil.example"
FORGED = f"http://{EVIL}"
BASE_URL = "http://roster.test"


def forged_csrf_token(client, path: str) -> str:
    page = client.get(path, base_url=FORGED).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def assert_no_forged_host(response, what: str) -> None:
    assert EVIL not in response.get_data(as_text=True), what
    assert EVIL not in response.headers.get("Location", ""), what


def test_embed_script_takes_its_urls_from_base_url_whatever_the_host_header(client):
    script = client.get("/embed.js", base_url=FORGED).get_data(as_text=True)
    assert f'"{BASE_URL}/api/v1/subscriptions"' in script and f'"{BASE_URL}/embed/subscribe"' in script
    assert EVIL not in script


def test_embed_script_ignores_x_forwarded_host_behind_a_trusted_proxy(app):
    proxied = create_app({**app.config, "APP_ENV": "testing", "TRUSTED_PROXY_COUNT": 1})
    response = proxied.test_client().get("/embed.js", headers={"X-Forwarded-Host": EVIL,
                                                               "X-Forwarded-Proto": "https"})
    script = response.get_data(as_text=True)
    assert f'"{BASE_URL}/embed/subscribe"' in script and EVIL not in script


def test_a_forged_host_is_not_an_allowed_origin(client, newsletter, embed_origins):
    refused = client.post("/embed/subscribe", base_url=FORGED, data={"email": "ada@example.com"},
                          headers={"Origin": FORGED, "Referer": f"{FORGED}/embed/form"})
    assert refused.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    framed = client.get("/embed/form", base_url=FORGED)
    assert EVIL not in framed.headers["Content-Security-Policy"]


def test_no_page_redirect_or_mail_carries_a_forged_host(app, client, newsletter, make_cohort, make_staff, deliver):
    """Sign up, enrol and ask for a privacy link with a forged Host, then fetch every
    GET page of the reader-facing blueprints (with the mailed links' real tokens) and
    console pages the same way."""
    cohort = make_cohort()
    client.post("/subscribe", base_url=FORGED, headers={"Referer": ARTICLE_URL},
                data={"csrf_token": forged_csrf_token(client, "/subscribe"), "full_name": "Ada Reader",
                      "email": "ada@example.com"})
    enroll = f"/courses/{cohort.course.slug}/enroll"
    client.post(enroll, base_url=FORGED, data={"csrf_token": forged_csrf_token(client, enroll),
                                                "cohort": str(cohort.id), "full_name": "Ada Reader",
                                                "email": "ada@example.com"})
    client.post("/privacy", base_url=FORGED, data={"csrf_token": forged_csrf_token(client, "/privacy"),
                                                   "email": "ada@example.com"})
    mails = deliver(3)
    mailed_paths = set()
    for mail in mails:
        for part in mail.walk():
            if part.get_content_maintype() == "text":
                text = part.get_content()
                assert EVIL not in text
                mailed_paths |= set(re.findall(re.escape(BASE_URL) + r"(/[^\s\"<>]+)", text))
    tokens = {}
    for path in mailed_paths:
        matched = re.fullmatch(r"/(confirm|unsubscribe|privacy|enrollments/(?:confirm|cancel|stop-mail))/([^/?]+)",
                               path)
        if matched:
            tokens[matched.group(1)] = matched.group(2)
    assert {"confirm", "unsubscribe", "privacy", "enrollments/confirm"} <= set(tokens)

    paths = set(mailed_paths)
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in {"public", "embed", "courses", "static"} or "GET" not in rule.methods:
            continue
        prefix = rule.rule.split("/<")[0].strip("/")
        values = {"slug": cohort.course.slug, "filename": "roster.css", "token": tokens.get(prefix, "not-a-token")}
        values = {name: values[name] for name in rule.arguments}
        paths.add(rule.build(values)[1])
    for path in sorted(paths):
        assert_no_forged_host(client.get(path, base_url=FORGED, headers={"Referer": ARTICLE_URL}), path)

    signed_in = client.post("/admin/login", base_url=FORGED, data={
        "csrf_token": forged_csrf_token(client, "/admin/login"), "email": make_staff().email,
        "password": STAFF_PASSWORD})
    assert_no_forged_host(signed_in, "/admin/login")
    for console_path in ("/admin/", "/admin/subscribers", "/admin/export", "/admin/imports"):
        page = client.get(console_path, base_url=FORGED)
        assert page.status_code == 200, console_path
        assert_no_forged_host(page, console_path)
