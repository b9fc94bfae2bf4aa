"""Bad input gets a 4xx, never a 500: JSON nested without end."""

import pytest
from sqlalchemy import func, select

from app import create_app
from extensions import db
from models import Subscriber
from tests.conftest import ARTICLE_ORIGIN, ARTICLE_URL

LEVELS = 100_000
NESTED = {
    "arrays": "[" * LEVELS + "]" * LEVELS,
    "objects": '{"a":' * LEVELS + "1" + "}" * LEVELS,
}


def count(model) -> int:
    db.session.rollback()  # another app wrote it: look past this session's snapshot
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def limited_client(app, embed_origins):
    """With rate limits on, whose per-address key reads the body before the view does."""
    return create_app({**app.config, "APP_ENV": "testing", "RATELIMIT_ENABLED": True}).test_client()


@pytest.mark.parametrize("shape", NESTED)
def test_deeply_nested_json_to_the_api_is_a_400_problem(client, limited_client, newsletter, embed_origins, shape):
    for test_client in (client, limited_client):
        response = test_client.post("/api/v1/subscriptions", data=NESTED[shape], content_type="application/json",
                                    headers={"Origin": ARTICLE_ORIGIN})
        assert response.status_code == 400 and response.mimetype == "application/problem+json"
        assert "deeper than 32 levels" in response.json["detail"]
    assert count(Subscriber) == 0


@pytest.mark.parametrize("shape", NESTED)
def test_deeply_nested_json_to_the_embed_post_is_a_400(client, limited_client, newsletter, embed_origins, shape):
    for test_client in (client, limited_client):
        response = test_client.post("/embed/subscribe", data=NESTED[shape], content_type="application/json",
                                    headers={"Origin": ARTICLE_ORIGIN, "Referer": ARTICLE_URL})
        assert response.status_code == 400
    assert count(Subscriber) == 0
    # The form-encoded post it takes is untouched.
    fine = limited_client.post("/embed/subscribe", data={"email": "ada@example.com", "full_name": "[[[[Ada"},
                               headers={"Origin": ARTICLE_ORIGIN, "Referer": ARTICLE_URL})
    assert fine.status_code == 200 and count(Subscriber) == 1


def test_brackets_inside_strings_are_not_nesting(client, newsletter, embed_origins):
    name = '[{"' * 40 + '\\"]'
    response = client.post("/api/v1/subscriptions", json={"email": "ada@example.com", "full_name": name[:100]},
                           headers={"Origin": ARTICLE_ORIGIN})
    assert response.status_code == 202


def test_nesting_just_within_the_limit_is_read(client, newsletter, embed_origins):
    within = client.post("/api/v1/subscriptions", data="[" * 32 + "]" * 32, content_type="application/json",
                         headers={"Origin": ARTICLE_ORIGIN})
    assert within.status_code == 422 and within.json["errors"][0]["message"] == "Send a JSON object."
    beyond = client.post("/api/v1/subscriptions", data="[" * 33 + "]" * 33, content_type="application/json",
                         headers={"Origin": ARTICLE_ORIGIN})
    assert beyond.status_code == 400
