"""JSON API v1: public sign-up with CORS, staff endpoints, problem details, OpenAPI in step."""

import re

import pytest
from sqlalchemy import func, select

from extensions import db
from models import AuditEvent, ConsentEvent, OutboxMessage, Subscriber, Subscription, SubscriptionStatus
from services.data import exports
from services.subscriptions import subscriptions
from services.subscriptions.consent import STAFF_FORM
from tests.courses.test_enrollments import enrol, fill
from tests.support import ARTICLE_ORIGIN, ARTICLE_URL, link_path


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def api_subscribe(client, body, origin=ARTICLE_ORIGIN):
    return client.post("/api/v1/subscriptions", json=body, headers={"Origin": origin} if origin else {})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_public_post_from_allowed_origin_subscribes_with_cors(client, newsletter, embed_origins, deliver):
    response = api_subscribe(client, {"email": "api@example.com", "full_name": "Api Reader",
                                      "source": ARTICLE_URL + "?utm_medium=email", "utm_campaign": "launch"})
    assert response.status_code == 202 and response.json["status"] == "accepted"
    assert response.headers["Access-Control-Allow-Origin"] == ARTICLE_ORIGIN
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    subscription = db.session.scalars(select(Subscription)).one()
    assert subscription.status == SubscriptionStatus.PENDING and subscription.source_url == ARTICLE_URL
    assert subscription.utm == {"utm_medium": "email", "utm_campaign": "launch"}
    assert db.session.scalars(select(ConsentEvent.form)).one() == "api"
    assert len(deliver(1)) == 1


def test_public_post_keeps_the_articles_title_and_refuses_one_too_long(client, newsletter, embed_origins):
    accepted = api_subscribe(client, {"email": "api@example.com", "source": ARTICLE_URL,
                                      "source_title": " Ministers\tcall <b>for</b> a summit "})
    assert accepted.status_code == 202
    assert db.session.scalars(select(Subscription.utm)).one() == {"title": "Ministers call <b>for</b> a summit"}
    refused = api_subscribe(client, {"email": "long@example.com", "source": ARTICLE_URL, "source_title": "x" * 10_000})
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert "at most 300 characters" in refused.get_data(as_text=True)
    assert count(Subscriber) == 1


def test_public_post_from_another_origin_is_403_and_stores_nothing(client, newsletter, embed_origins):
    for origin in ("https://evil.example", None):
        response = api_subscribe(client, {"email": "x@example.com"}, origin=origin)
        assert response.status_code == 403 and response.mimetype == "application/problem+json"
        assert "Access-Control-Allow-Origin" not in response.headers
    assert count(Subscriber) == count(OutboxMessage) == 0


def test_public_honeypot_answers_alike_and_stores_nothing(client, newsletter, embed_origins):
    bot = api_subscribe(client, {"email": "bot@example.com", "website": "x"})
    assert bot.status_code == 202 and bot.json["status"] == "accepted"
    assert count(Subscriber) == count(OutboxMessage) == 0


def test_preflight_answers_only_allowed_origins(client, embed_origins):
    def preflight(origin):
        return client.options("/api/v1/subscriptions", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})

    allowed = preflight(ARTICLE_ORIGIN)
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ARTICLE_ORIGIN
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "content-type" in allowed.headers["Access-Control-Allow-Headers"].lower()
    refused = preflight("https://evil.example")
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers


def test_bad_bodies_get_problem_details(client, newsletter, embed_origins):
    headers = {"Origin": ARTICLE_ORIGIN}
    not_json = client.post("/api/v1/subscriptions", data="email=a@example.com", headers=headers)
    assert not_json.status_code == 415 and not_json.mimetype == "application/problem+json"
    broken = client.post("/api/v1/subscriptions", data="{", content_type="application/json", headers=headers)
    assert broken.status_code == 400
    for body, field in (({}, "email"), ({"email": 3}, "email"), ({"email": "a@example.com", "x": "1"}, "x"),
                        ({"email": "nope"}, "email")):
        response = api_subscribe(client, body)
        assert response.status_code == 422, body
        assert response.json["status"] == 422 and response.json["type"] == "about:blank" and response.json["title"]
        assert [e["field"] for e in response.json["errors"]] == [field]
    assert count(Subscriber) == 0


def make_people(newsletter, origin, deliver, client):
    subscriptions.subscribe("ada@example.com", "Ada Lovelace", origin)
    subscriptions.subscribe("grace@example.com", "=HYPERLINK(\"http://x\")", origin)
    subscriptions.subscribe("alan@example.org", "Alan Turing", origin)
    confirm_mail = next(m for m in deliver(3) if m["To"].addresses[0].addr_spec == "ada@example.com")
    client.post(link_path(confirm_mail, "confirm"))


def test_staff_list_search_filter_and_fetch(client, newsletter, origin, deliver, issue_api_token):
    make_people(newsletter, origin, deliver, client)
    auth = bearer(issue_api_token("read"))
    everyone = client.get("/api/v1/subscribers", headers=auth).json
    assert [s["email"] for s in everyone["items"]] == ["alan@example.org", "grace@example.com", "ada@example.com"]
    assert everyone["next_cursor"] is None
    assert [s["email"] for s in client.get("/api/v1/subscribers?q=ALAN@", headers=auth).json["items"]] == \
        ["alan@example.org"]
    assert client.get("/api/v1/subscribers?q=lovelace", headers=auth).json["items"][0]["email"] == "ada@example.com"
    assert client.get("/api/v1/subscribers?q=%25", headers=auth).json["items"] == []  # % is literal
    confirmed = client.get("/api/v1/subscribers?status=confirmed&list=updates", headers=auth).json
    assert [s["email"] for s in confirmed["items"]] == ["ada@example.com"]
    assert client.get("/api/v1/subscribers?list=no-such-list", headers=auth).json["items"] == []
    assert client.get("/api/v1/subscribers?status=gone", headers=auth).status_code == 422
    assert client.get("/api/v1/subscribers?limit=1000", headers=auth).status_code == 422
    assert client.get("/api/v1/subscribers?page=2", headers=auth).status_code == 422

    one = client.get(f"/api/v1/subscribers/{everyone['items'][2]['id']}", headers=auth).json
    assert one["full_name"] == "Ada Lovelace"
    assert one["subscriptions"][0]["list"] == "updates" and one["subscriptions"][0]["status"] == "confirmed"
    missing = client.get("/api/v1/subscribers/999999", headers=auth)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_staff_list_pages_with_keyset_cursors(client, newsletter, origin, deliver, issue_api_token):
    make_people(newsletter, origin, deliver, client)
    auth = bearer(issue_api_token("read"))
    seen, after = [], None
    while True:
        page = client.get("/api/v1/subscribers", query_string={"limit": 2, **({"after": after} if after else {})},
                          headers=auth).json
        seen.append([s["email"] for s in page["items"]])
        after = page["next_cursor"]
        if after is None:
            break
    assert seen == [["alan@example.org", "grace@example.com"], ["ada@example.com"]]


def test_staff_unsubscribe_is_the_consoles_unsubscribe(client, newsletter, make_list, origin, deliver,
                                                         issue_api_token):
    make_people(newsletter, origin, deliver, client)
    subscriptions.subscribe("ada@example.com", "Ada Lovelace", origin, list_slug=make_list("weekly").slug)
    ada = db.session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.com"))
    auth = bearer(issue_api_token("read-write"))
    response = client.post(f"/api/v1/subscribers/{ada.id}/unsubscribe", json={"list": "updates"}, headers=auth)
    assert response.status_code == 200 and response.json == {"unsubscribed_from": ["updates"]}
    db.session.expire_all()
    assert {s.mailing_list.slug: s.status for s in ada.subscriptions} == {
        "updates": SubscriptionStatus.UNSUBSCRIBED, "weekly": SubscriptionStatus.PENDING}
    assert client.post(f"/api/v1/subscribers/{ada.id}/unsubscribe", headers=auth).json == \
        {"unsubscribed_from": ["weekly"]}
    again = client.post(f"/api/v1/subscribers/{ada.id}/unsubscribe", headers=auth)
    assert again.json == {"unsubscribed_from": []}
    assert db.session.scalars(select(ConsentEvent.form).order_by(ConsentEvent.id.desc())).first() == STAFF_FORM
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "subscriber.unsubscribe")).all()
    assert len(audits) == 2
    assert audits[0].actor.startswith("staff@example.com") and audits[0].target == f"subscriber:{ada.id}"
    unknown_list = client.post(f"/api/v1/subscribers/{ada.id}/unsubscribe", json={"list": "no"}, headers=auth)
    assert unknown_list.status_code == 404
    assert client.post("/api/v1/subscribers/999999/unsubscribe", headers=auth).status_code == 404


def test_staff_export_is_the_consoles_export(client, newsletter, origin, deliver, issue_api_token):
    make_people(newsletter, origin, deliver, client)
    auth = bearer(issue_api_token("read"))
    response = client.get("/api/v1/subscriptions.csv", headers=auth)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="subscribers-all-\d{4}-\d{2}-\d{2}\.csv"',
                        response.headers["Content-Disposition"])
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == ",".join(exports.HEADER)
    assert len(lines) == 4
    assert any(line.startswith('grace@example.com,"\'=HYPERLINK(') for line in lines)
    audit = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert audit.action == exports.AUDIT_ACTION and audit.details["rows"] == 3 and audit.details["completed"]
    assert audit.actor.startswith("staff@example.com")

    confirmed = client.get("/api/v1/subscriptions.csv?list=updates&status=confirmed&status=cleaned", headers=auth)
    assert [line.split(",")[0] for line in confirmed.get_data(as_text=True).splitlines()[1:]] == \
        ["ada@example.com"]
    assert client.get("/api/v1/subscriptions.csv?list=nope", headers=auth).status_code == 404
    assert client.get("/api/v1/subscriptions.csv?status=gone", headers=auth).status_code == 422


def test_staff_list_enrollments_of_a_cohort(client, make_cohort, origin, issue_api_token):
    cohort = make_cohort(capacity=2)
    people = fill(cohort, origin, confirmed=2, waitlisted=1)
    enrol(cohort, "late@example.com", origin)  # not confirmed yet
    auth = bearer(issue_api_token("read"))
    response = client.get(f"/api/v1/enrollments?cohort={cohort.id}", headers=auth)
    assert response.status_code == 200
    assert response.json["cohort"] | {"starts_on": None, "ends_on": None} == {
        "id": cohort.id, "course": "ir-certificate", "label": cohort.label, "starts_on": None, "ends_on": None,
        "capacity": 2, "seats_taken": 2, "waitlisted": 1}
    assert [(e["email"], e["status"], e["waitlist_position"]) for e in response.json["items"]] == [
        ("p0@example.com", "confirmed", None), ("p1@example.com", "confirmed", None),
        ("p2@example.com", "waitlisted", 1), ("late@example.com", "pending", None)]
    assert response.json["items"][0]["id"] == people[0].id and response.json["items"][0]["confirmed_at"]
    assert client.get("/api/v1/enrollments?cohort=999999", headers=auth).status_code == 404
    assert client.get("/api/v1/enrollments", headers=auth).status_code == 422
    assert client.get("/api/v1/enrollments?cohort=x", headers=auth).status_code == 422
    assert client.get(f"/api/v1/enrollments?cohort={cohort.id}").status_code == 401


def test_api_errors_are_problem_details(client, issue_api_token):
    response = client.delete("/api/v1/subscribers/1", headers=bearer(issue_api_token()))
    assert response.status_code == 405 and response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_openapi_document_describes_every_api_route_and_nothing_else(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routed |= {(path, method.lower()) for method in rule.methods - {"HEAD"}
                       if method != "OPTIONS" or rule.endpoint == "api.preflight_subscription"}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert routed == documented


def test_text_no_database_can_hold_matches_nothing_instead_of_failing(client, newsletter, embed_origins,
                                                                      issue_api_token):
    assert api_subscribe(client, {"email": "nul@example.com", "list": "up\x00dates"}).status_code == 404
    assert api_subscribe(client, {"email": "nul@example.com", "source": "https://news.example/\x00"}).status_code == 202
    auth = bearer(issue_api_token("read-write"))
    assert client.get("/api/v1/subscribers?q=%00", headers=auth).json["items"] == []
    assert client.get("/api/v1/subscribers?list=%00", headers=auth).json["items"] == []
    assert client.get("/api/v1/subscriptions.csv?list=%00", headers=auth).status_code == 404
    assert client.post("/api/v1/subscribers/1/unsubscribe", json={"list": "\x00"}, headers=auth).status_code == 404
    assert db.session.scalars(select(Subscription.source_url)).one() is None


@pytest.mark.parametrize("path", ["/api/v1/subscribers?status=", "/api/v1/subscriptions.csv?status="])
def test_an_empty_status_is_refused_not_read_as_any_status(client, newsletter, issue_api_token, path):
    token = issue_api_token()
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
