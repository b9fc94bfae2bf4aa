"""Lists: staff create and edit them; private lists stay off public pages; a confirmed
subscriber gets the list's welcome mail once."""

from sqlalchemy import select

from extensions import db
from models import AuditEvent, MailingList, Subscription
from services.subscriptions import subscriptions
from tests.support import csrf_token, link_path

FORM = {"name": "Course News", "slug": "course-news", "description": "Dates.\nFees.",
        "is_public": "y", "welcome_text": ""}


def post_list(client, path="/admin/lists/new", **changes):
    data = {**FORM, **changes, "csrf_token": csrf_token(client, "/admin/")}
    return client.post(path, data={k: v for k, v in data.items() if v is not None})


def test_staff_create_and_edit_a_list(signed_in_client):
    assert post_list(signed_in_client).status_code == 303
    created = db.session.scalars(select(MailingList)).one()
    assert (created.slug, created.is_public, created.description) == ("course-news", True, "Dates.\nFees.")
    response = post_list(signed_in_client, f"/admin/lists/{created.id}", name="Course Dates",
                         is_public=None, welcome_text="Hello!\n\nWelcome.")
    assert response.status_code == 303
    db.session.refresh(created)
    assert (created.name, created.is_public, created.welcome_text) == ("Course Dates", False, "Hello!\n\nWelcome.")
    assert "private" in signed_in_client.get("/admin/lists").get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["list.create", "list.update"]


def test_bad_slugs_and_duplicate_slugs_are_refused_beside_the_field(signed_in_client, newsletter):
    bad = post_list(signed_in_client, slug="Not A Slug")
    assert bad.status_code == 400 and 'id="slug-error"' in bad.get_data(as_text=True)
    taken = post_list(signed_in_client, slug=newsletter.slug)
    assert taken.status_code == 400 and "already uses this slug" in taken.get_data(as_text=True)
    assert db.session.scalars(select(MailingList.slug)).all() == [newsletter.slug]


def test_the_default_list_stays_public(signed_in_client, newsletter):
    response = post_list(signed_in_client, f"/admin/lists/{newsletter.id}", slug=newsletter.slug, is_public=None)
    assert response.status_code == 400 and "must stay public" in response.get_data(as_text=True)
    db.session.refresh(newsletter)
    assert newsletter.is_public


def test_private_lists_never_appear_on_public_pages(client, newsletter, make_list, origin, deliver):
    make_list("insiders", public=False, name="Insiders Only")
    subscriptions.subscribe("reader@example.com", "", origin)
    [mail] = deliver(1)
    assert "Insiders Only" not in client.get(link_path(mail, "unsubscribe")).get_data(as_text=True)
    token = csrf_token(client)
    refused = client.post("/subscribe?list=insiders", data={"csrf_token": token, "email": "x@example.com",
                                                            "list": "insiders"})
    assert refused.status_code == 400
    assert db.session.scalars(select(Subscription.list_id)).all() == [newsletter.id]


def test_confirmed_subscribers_get_the_welcome_mail_once(app, client, newsletter, origin, deliver):
    newsletter.welcome_text = "Thanks for joining.\n\nExpect <b>weekly</b> analysis."
    db.session.commit()
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    subscriptions.subscribe("new@example.com", "New Reader", origin)
    [confirm_mail] = deliver(1)
    client.post(link_path(confirm_mail, "confirm"))
    client.post(link_path(confirm_mail, "confirm"))  # a second click changes nothing
    welcome = deliver(2)[1]
    assert welcome["Subject"] == f"Welcome to {newsletter.name}"
    assert welcome["List-Unsubscribe"] and welcome["To"] == "New Reader <new@example.com>"
    assert "Expect <b>weekly</b> analysis." in welcome.get_body(("plain",)).get_content()
    assert "Expect &lt;b&gt;weekly&lt;/b&gt; analysis." in welcome.get_body(("html",)).get_content()

    # Leaving and coming back does not welcome them again.
    client.post(link_path(confirm_mail, "unsubscribe"))
    subscriptions.subscribe("new@example.com", "", origin)
    client.post(link_path(deliver(3)[2], "confirm"))
    assert len(deliver()) == 3
    assert db.session.scalar(select(Subscription.welcomed_at)) is not None


def test_joining_from_preferences_welcomes_and_lists_without_text_send_nothing(
        client, newsletter, make_list, origin, deliver):
    briefing = make_list("briefing", name="Briefing")
    briefing.welcome_text = "Welcome to the briefing."
    db.session.commit()
    subscriptions.subscribe("pref@example.com", "", origin)
    [mail] = deliver(1)
    client.post(link_path(mail, "confirm"))  # the newsletter has no welcome text
    token = link_path(mail, "unsubscribe").rsplit("/", 1)[1]
    client.post(f"/preferences/{token}", data={"lists": [str(newsletter.id), str(briefing.id)]})
    mails = deliver(2)
    assert mails[1]["Subject"] == "Welcome to Briefing"
