"""Console sessions end on the server: a copy of a cookie opens nothing once its
session is signed out, the account disabled, its role or its password changed, or the
session has run out."""

import hashlib
from datetime import timedelta

from sqlalchemy import select, update

from extensions import db
from models import StaffSession
from models.base import utcnow
from services.core.audit import Actor
from services.staff import staff
from tests.staff.test_admin_auth import NEW_PASSWORD, as_a_new_request, change_password
from tests.support import STAFF_PASSWORD, csrf_token, sign_in


def copy_of_cookie(app, client):
    """Another browser holding a copy of `client`'s session cookie as it is now."""
    name = app.config["SESSION_COOKIE_NAME"]
    copy = app.test_client()
    copy.set_cookie(name, client.get_cookie(name).value)
    return copy


def opens_console(client) -> bool:
    as_a_new_request()
    response = client.get("/admin/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    return False


def signed_in(app, email: str, password: str = STAFF_PASSWORD, user_agent: str = "werkzeug test"):
    as_a_new_request()
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    assert sign_in(client, email, password).status_code == 303
    return client


def sessions_of(user_id: int) -> list[StaffSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(StaffSession).where(StaffSession.staff_user_id == user_id)))


def post_as_owner(owner_client, path: str, data: dict):
    as_a_new_request()
    response = owner_client.post(path, data={"csrf_token": csrf_token(owner_client, "/admin/staff"), **data})
    assert response.status_code == 303
    return response


def test_a_cookie_copied_before_signing_out_opens_nothing_after(app, staff_user):
    browser = signed_in(app, staff_user.email)
    copy = copy_of_cookie(app, browser)
    assert opens_console(copy)

    as_a_new_request()
    response = browser.post("/admin/logout", data={"csrf_token": csrf_token(browser, "/admin/")})
    assert response.status_code == 303
    assert not opens_console(copy)
    assert not opens_console(browser)
    assert sessions_of(staff_user.id) == []


def test_disabling_then_enabling_an_account_does_not_revive_its_sessions(app, staff_user, make_staff):
    editor = make_staff("editor@example.com", role="editor")
    owner = signed_in(app, staff_user.email)
    editor_browser = signed_in(app, editor.email)
    copy = copy_of_cookie(app, editor_browser)

    post_as_owner(owner, f"/admin/staff/{editor.id}/active", {"active": "0"})
    post_as_owner(owner, f"/admin/staff/{editor.id}/active", {"active": "1"})
    assert not opens_console(editor_browser)
    assert not opens_console(copy)
    assert opens_console(owner)  # the owner's own session is untouched
    assert opens_console(signed_in(app, editor.email))  # enabled again: a new sign-in works


def test_a_role_change_ends_the_accounts_sessions(app, staff_user, make_staff):
    editor = make_staff("editor@example.com", role="editor")
    owner = signed_in(app, staff_user.email)
    editor_browser = signed_in(app, editor.email)
    copy = copy_of_cookie(app, editor_browser)

    post_as_owner(owner, f"/admin/staff/{editor.id}/role", {"role": "owner"})
    assert not opens_console(editor_browser)
    assert not opens_console(copy)
    assert sessions_of(editor.id) == []
    assert opens_console(owner)

    # Setting the role it already has changes nothing, so signs nobody out.
    editor_browser = signed_in(app, editor.email)
    post_as_owner(owner, f"/admin/staff/{editor.id}/role", {"role": "owner"})
    assert opens_console(editor_browser)


def test_changing_ones_password_ends_every_other_session_and_keeps_this_browser(app, staff_user):
    browser = signed_in(app, staff_user.email)
    [before] = [row.id_hash for row in sessions_of(staff_user.id)]
    other_browser = signed_in(app, staff_user.email)
    copy_from_before = copy_of_cookie(app, browser)

    as_a_new_request()
    assert change_password(browser, STAFF_PASSWORD, NEW_PASSWORD).status_code == 303
    assert opens_console(browser)
    assert not opens_console(other_browser)
    assert not opens_console(copy_from_before)
    # Only the changing browser's session is left, and it is a new one.
    [kept] = sessions_of(staff_user.id)
    assert kept.id_hash != before


def test_an_owners_reset_ends_every_session_of_the_account(app, staff_user, make_staff):
    editor = make_staff("editor@example.com", role="editor")
    editor_browser = signed_in(app, editor.email)
    owner = signed_in(app, staff_user.email)

    staff.reset_password(Actor(staff_user.email, staff_user.id), editor.email, NEW_PASSWORD)
    assert not opens_console(editor_browser)
    assert sessions_of(editor.id) == []
    assert opens_console(owner)


def test_cli_set_password_ends_every_session_of_the_account(app, staff_user):
    browsers = [signed_in(app, staff_user.email) for _ in range(2)]
    result = app.test_cli_runner().invoke(args=["admin", "set-password", staff_user.email, "--password-stdin"],
                                          input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert not any(opens_console(browser) for browser in browsers)
    assert sessions_of(staff_user.id) == []


def test_a_session_past_its_lifetime_or_idle_too_long_is_refused(app, staff_user):
    browser = signed_in(app, staff_user.email)
    [row] = sessions_of(staff_user.id)
    assert row.expires_at - row.created_at == timedelta(seconds=app.config["STAFF_SESSION_MAX_AGE_SECONDS"])
    db.session.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert not opens_console(browser)

    browser = signed_in(app, staff_user.email)
    idle = timedelta(seconds=app.config["STAFF_SESSION_IDLE_SECONDS"] + 1)
    db.session.execute(update(StaffSession).values(last_seen_at=utcnow() - idle))
    db.session.commit()
    assert not opens_console(browser)


def test_last_use_is_written_at_most_once_a_minute(app, staff_user):
    browser = signed_in(app, staff_user.email)
    [row] = sessions_of(staff_user.id)
    signed_in_at = row.last_seen_at
    assert opens_console(browser)
    assert sessions_of(staff_user.id)[0].last_seen_at == signed_in_at

    a_while_ago = utcnow() - timedelta(minutes=5)
    db.session.execute(update(StaffSession).values(last_seen_at=a_while_ago))
    db.session.commit()
    assert opens_console(browser)
    assert sessions_of(staff_user.id)[0].last_seen_at > a_while_ago + timedelta(minutes=4)


def test_the_server_keeps_only_a_hash_of_the_session_id(app, staff_user):
    browser = signed_in(app, staff_user.email)
    cookie = browser.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    session_id = app.session_interface.get_signing_serializer(app).loads(cookie)["staff_session_id"]
    [row] = sessions_of(staff_user.id)
    assert row.id_hash == hashlib.sha256(session_id.encode()).hexdigest()
    assert session_id not in {row.id_hash, row.ip, row.user_agent}


def test_purge_removes_ended_sessions_and_keeps_live_ones(app, staff_user):
    browsers = [signed_in(app, staff_user.email) for _ in range(3)]
    expired, idle, live = (row.id for row in sorted(sessions_of(staff_user.id), key=lambda row: row.id))
    now = utcnow()
    db.session.execute(update(StaffSession).where(StaffSession.id == expired)
                       .values(expires_at=now - timedelta(seconds=1)))
    db.session.execute(update(StaffSession).where(StaffSession.id == idle).values(
        last_seen_at=now - timedelta(seconds=app.config["STAFF_SESSION_IDLE_SECONDS"] + 1)))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["maintenance", "purge"])
    assert result.exit_code == 0 and "2 ended staff sessions" in result.output
    assert [row.id for row in sessions_of(staff_user.id)] == [live]
    assert opens_console(browsers[2])


def test_the_account_page_lists_where_one_is_signed_in(app, staff_user):
    laptop = signed_in(app, staff_user.email, user_agent="Laptop browser")
    phone = signed_in(app, staff_user.email, user_agent="Phone <b>browser</b>")
    as_a_new_request()
    page = laptop.get("/admin/account").get_data(as_text=True)
    assert "Laptop browser <strong>(this browser)</strong>" in page
    assert "Phone &lt;b&gt;browser&lt;/b&gt;</td>" in page and "127.0.0.1" in page

    as_a_new_request()
    phone.post("/admin/logout", data={"csrf_token": csrf_token(phone, "/admin/")})
    as_a_new_request()
    assert "Phone" not in laptop.get("/admin/account").get_data(as_text=True)
