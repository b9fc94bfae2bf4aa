"""A fresh install (`flask db upgrade`, no demo seed) answers every sign-up path, and a
database that staff left without lists closes sign-ups with a clear 503, storing nothing."""

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from extensions import db
from models import ConsentEvent, Course, MailingList, OutboxMessage, Subscriber, Subscription
from services.console import demo
from tests.support import ARTICLE_ORIGIN, csrf_token

ARTICLE = f"{ARTICLE_ORIGIN}/2026/12/a-fresh-article"


@pytest.fixture
def fresh_app(migration_app):
    migration_app.config["EMBED_ALLOWED_ORIGINS"] = [ARTICLE_ORIGIN]
    upgrade()
    return migration_app


def sign_up_through_each_entry_point(client) -> list:
    hosted = client.post("/subscribe", data={"csrf_token": csrf_token(client), "email": "hosted@example.com",
                                             "full_name": "Hosted Reader"})
    embed = client.post("/embed/subscribe", headers={"Origin": ARTICLE_ORIGIN},
                        data={"email": "embed@example.com", "full_name": "Embed Reader", "source": ARTICLE})
    api = client.post("/api/v1/subscriptions", headers={"Origin": ARTICLE_ORIGIN},
                      json={"email": "api@example.com", "full_name": "API Reader", "source": ARTICLE})
    return [hosted, embed, api]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_fresh_install_has_one_public_default_list(fresh_app):
    (only,) = db.session.scalars(select(MailingList)).all()
    assert (only.slug, only.name, only.is_public, only.is_default) == ("newsletter", "Newsletter", True, True)


def test_the_fresh_list_is_named_after_the_publication(migration_app):
    migration_app.config["SITE_NAME"] = "The Meridian Review"
    upgrade()
    assert db.session.scalar(select(MailingList.name)) == "The Meridian Review Newsletter"


def test_every_sign_up_path_works_on_a_fresh_install(fresh_app):
    client = fresh_app.test_client()
    hosted, embed, api = sign_up_through_each_entry_point(client)
    assert hosted.status_code == 303 and hosted.headers["Location"].endswith("/subscribe/check-your-inbox")
    assert embed.status_code == 200 and "Thank you" in embed.get_data(as_text=True)
    assert api.status_code == 202
    pending = db.session.scalars(select(Subscription)).all()
    assert len(pending) == 3
    assert {s.mailing_list.slug for s in pending} == {"newsletter"}
    assert count(OutboxMessage) == 3  # a confirmation mail each


def test_with_no_list_every_sign_up_path_answers_closed_and_stores_nothing(fresh_app):
    db.session.execute(MailingList.__table__.delete())
    db.session.commit()
    client = fresh_app.test_client()
    hosted, embed, api = sign_up_through_each_entry_point(client)
    for response in (hosted, embed):
        assert response.status_code == 503
        assert "Sign-ups are closed" in response.get_data(as_text=True)
    assert api.status_code == 503
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["detail"].startswith("Sign-ups are closed")
    assert api.headers["Access-Control-Allow-Origin"] == ARTICLE_ORIGIN  # the article's script can read it
    json_embed = client.post("/embed/subscribe", headers={"Origin": ARTICLE_ORIGIN, "Accept": "application/json"},
                             data={"email": "embed@example.com"})
    assert json_embed.status_code == 503 and json_embed.mimetype == "application/problem+json"
    assert [count(Subscriber), count(Subscription), count(ConsentEvent), count(OutboxMessage)] == [0, 0, 0, 0]


def test_the_enrolment_form_opens_with_no_list_and_offers_no_newsletter(fresh_app):
    db.session.execute(MailingList.__table__.delete())
    db.session.add(Course(**demo.DEMO_COURSE))
    db.session.commit()
    page = fresh_app.test_client().get(f"/courses/{demo.DEMO_COURSE['slug']}/enroll")
    assert page.status_code == 200
    assert 'name="newsletter"' not in page.get_data(as_text=True)


def test_demo_seed_makes_the_untouched_fresh_list_the_demo_list(fresh_app):
    demo.seed()
    (only,) = db.session.scalars(select(MailingList)).all()
    assert (only.slug, only.name, only.is_default) == (demo.DEMO_LIST["slug"], demo.DEMO_LIST["name"], True)


def test_demo_seed_leaves_a_fresh_list_that_has_readers(fresh_app):
    sign_up_through_each_entry_point(fresh_app.test_client())
    demo.seed()
    slugs = set(db.session.scalars(select(MailingList.slug)))
    assert slugs == {"newsletter", demo.DEMO_LIST["slug"]}
