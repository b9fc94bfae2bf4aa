"""The hosted form offers several public lists as boxes to tick: one confirmation mail
covers every list ticked, and its one link confirms them all."""

import pytest
from sqlalchemy import select

from extensions import db
from models import ConsentAction, ConsentEvent, Subscriber, Subscription, SubscriptionStatus
from services.core.tokens import Purpose, make_token
from services.subscriptions import subscriptions
from tests.subscriptions.test_public_views import post_subscribe
from tests.support import csrf_token, link_path, outbox_rows

BOTH = "International Relations Updates and Culture Weekly"


@pytest.fixture
def culture(make_list):
    return make_list("culture", name="Culture Weekly")


def statuses() -> dict[str, SubscriptionStatus]:
    return {subscription.mailing_list.slug: subscription.status
            for subscription in db.session.scalars(select(Subscription))}


def consent_events(action: ConsentAction) -> list[tuple]:
    return sorted(db.session.execute(select(ConsentEvent.list_id, ConsentEvent.form, ConsentEvent.wording_version)
                                     .where(ConsentEvent.action == action)).tuples())


def tick(client, email: str, *slugs: str, **extra):
    return post_subscribe(client, email, list=list(slugs), lists_offered="y", **extra)


def test_several_ticked_lists_get_one_mail_whose_one_link_confirms_them_all(client, newsletter, culture, deliver):
    assert tick(client, "reader@example.com", "updates", "culture").status_code == 303
    [mail] = deliver(1)
    assert mail["Subject"] == f"Please confirm your subscription to {BOTH}"
    assert f"Please confirm that you want to receive {BOTH}" in mail.get_body(("plain",)).get_content()
    assert statuses() == {"updates": SubscriptionStatus.PENDING, "culture": SubscriptionStatus.PENDING}
    requested = consent_events(ConsentAction.SUBSCRIBE_REQUESTED)
    assert requested == sorted([(newsletter.id, "hosted", "subscribe-v1"), (culture.id, "hosted", "subscribe-v1")])

    assert client.get(link_path(mail, "confirm")).status_code == 200
    assert set(statuses().values()) == {SubscriptionStatus.PENDING}  # a GET changes nothing
    page = client.post(link_path(mail, "confirm")).get_data(as_text=True)
    assert f"You will receive {BOTH}, starting with the next issue." in page
    assert statuses() == {"updates": SubscriptionStatus.CONFIRMED, "culture": SubscriptionStatus.CONFIRMED}
    assert [list_id for list_id, *_ in consent_events(ConsentAction.CONFIRMED)] == sorted([newsletter.id, culture.id])
    tick(client, "reader@example.com", "updates", "culture")
    assert len(outbox_rows()) == 1  # still one opt-in mail in the window


def test_none_ticked_is_an_error_beside_the_boxes_and_stores_nothing(client, newsletter, culture):
    response = tick(client, "reader@example.com")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    fieldset = page[page.index("<fieldset"):page.index("</fieldset>")]
    assert '<p class="error" id="list-error">Choose at least one newsletter.</p>' in fieldset
    assert 'aria-describedby="list-error"' in fieldset
    assert db.session.scalars(select(Subscriber)).all() == [] and outbox_rows() == []
    assert db.session.scalars(select(ConsentEvent)).all() == []
    french = client.post("/subscribe?lang=fr", data={"csrf_token": csrf_token(client), "email": "reader@example.com",
                                                     "lists_offered": "y"}).get_data(as_text=True)
    assert "Choose at least one newsletter." not in french and 'id="list-error"' in french


def test_a_failed_post_keeps_the_boxes_ticked(client, newsletter, culture, make_list):
    make_list("science", name="Science Notes")
    page = tick(client, "not an address", "culture", "updates").get_data(as_text=True)
    assert 'type="checkbox" id="list-culture" name="list" value="culture"\n           checked' in page
    assert 'value="updates"\n           checked' in page and 'value="science"\n           checked' not in page


def test_an_already_confirmed_list_among_the_ticked_is_left_out_of_the_confirmation(
        app, client, newsletter, culture, deliver):
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    tick(client, "reader@example.com", "updates")
    client.post(link_path(deliver(1)[0], "confirm"))

    tick(client, "reader@example.com", "updates", "culture")
    mail = deliver(2)[1]
    assert mail["Subject"] == "Please confirm your subscription to Culture Weekly"
    page = client.post(link_path(mail, "confirm")).get_data(as_text=True)
    assert "You will receive Culture Weekly, starting" in page
    assert statuses() == {"updates": SubscriptionStatus.CONFIRMED, "culture": SubscriptionStatus.CONFIRMED}

    # Nothing left pending: one "already subscribed" mail names every list ticked.
    tick(client, "reader@example.com", "updates", "culture")
    assert deliver(3)[2]["Subject"] == f"You're already subscribed to {BOTH}"


def test_a_link_confirms_none_of_its_lists_left_since_it_was_issued(app, newsletter, culture, origin, deliver):
    subscriptions.subscribe("reader@example.com", "", origin, list_slug="updates", more_list_slugs=["culture"])
    token = link_path(deliver(1)[0], "confirm").rsplit("/", 1)[1]
    culture_row = db.session.scalars(select(Subscription).where(Subscription.list_id == culture.id)).one()
    culture_row.status, culture_row.unsubscribed_at = SubscriptionStatus.UNSUBSCRIBED, culture_row.created_at.replace(
        year=culture_row.created_at.year + 1)
    db.session.commit()
    assert subscriptions.confirm(token, origin).list_name == "International Relations Updates"
    assert statuses() == {"updates": SubscriptionStatus.CONFIRMED, "culture": SubscriptionStatus.UNSUBSCRIBED}


def test_a_single_list_form_is_unchanged(client, newsletter, deliver):
    page = client.get("/subscribe").get_data(as_text=True)
    assert '<input id="list" name="list" type="hidden" value="">' in page
    assert 'type="checkbox"' not in page and "lists_offered" not in page
    assert post_subscribe(client, "reader@example.com", list="").status_code == 303
    [mail] = deliver(1)
    assert mail["Subject"] == "Please confirm your subscription to International Relations Updates"
    assert statuses() == {"updates": SubscriptionStatus.PENDING}


def test_a_single_list_confirm_link_still_works(client, newsletter, origin):
    subscriptions.subscribe("reader@example.com", "", origin)
    subscription = db.session.scalars(select(Subscription)).one()
    token = make_token(Purpose.CONFIRM_SUBSCRIPTION, {"i": subscription.id, "k": subscription.link_key})
    assert client.post(f"/confirm/{token}").status_code == 200
    assert statuses() == {"updates": SubscriptionStatus.CONFIRMED}


def test_a_link_acts_only_on_the_rows_it_was_issued_for(newsletter, culture, origin, deliver):
    subscriptions.subscribe("reader@example.com", "", origin, list_slug="updates", more_list_slugs=["culture"])
    token = link_path(deliver(1)[0], "confirm").rsplit("/", 1)[1]
    # The culture row's id now names another row (a database that reuses ids): its key differs.
    db.session.scalars(select(Subscription).where(Subscription.list_id == culture.id)).one().link_key = "another-row"
    db.session.commit()
    subscriptions.confirm(token, origin)
    assert statuses() == {"updates": SubscriptionStatus.CONFIRMED, "culture": SubscriptionStatus.PENDING}
