"""Staff sign-in, sign-out, lockout, roles, and that every /admin URL is guarded."""

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from app import create_app
from config import ProductionConfig
from extensions import db
from models import AuditEvent, StaffRole, StaffUser
from models.base import utcnow
from services.core.audit import Actor
from services.core.errors import Forbidden, InvalidInput
from services.staff import staff
from tests.console_pages import console_paths, is_download, seed_console
from tests.support import STAFF_PASSWORD, csrf_token, sign_in

SAME_ANSWER_FOR = "do not open an account"


def as_a_new_request() -> None:
    """The test app keeps one app context, so `g` outlives a request; a real request
    starts without the signed-in user or the CSRF token another browser's request cached."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_sign_in_opens_the_console_and_records_it(client, staff_user):
    response = sign_in(client, "OWNER@example.com")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200 and "owner@example.com" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert db.session.get(StaffUser, staff_user.id).last_login_at is not None
    assert audit_actions() == ["staff.create", "staff.sign_in"]


def test_sign_in_returns_to_the_console_page_asked_for_but_never_elsewhere(client, staff_user):
    assert client.get("/admin/outbox").headers["Location"].startswith("/admin/login?next=")
    token = csrf_token(client, "/admin/login")
    data = {"csrf_token": token, "email": staff_user.email, "password": STAFF_PASSWORD}
    assert client.post("/admin/login?next=/admin/outbox", data=data).headers["Location"] == "/admin/outbox"
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    token = csrf_token(client, "/admin/login")
    response = client.post("/admin/login?next=//evil.example/admin", data={**data, "csrf_token": token})
    assert response.headers["Location"] == "/admin/"


def test_wrong_password_and_unknown_address_get_the_same_answer(client, staff_user):
    wrong = sign_in(client, staff_user.email, "not the password at all")
    unknown = sign_in(client, "nobody@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    assert SAME_ANSWER_FOR in wrong.get_data(as_text=True)
    assert wrong.get_data(as_text=True).replace(staff_user.email, "nobody@example.com") == \
        unknown.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_five_failures_lock_the_account_even_for_the_right_password(app, client, staff_user):
    for _ in range(app.config["STAFF_MAX_FAILED_LOGINS"]):
        assert sign_in(client, staff_user.email, "wrong password!!").status_code == 400
    locked = sign_in(client, staff_user.email)
    assert locked.status_code == 400 and SAME_ANSWER_FOR in locked.get_data(as_text=True)
    account = db.session.get(StaffUser, staff_user.id)
    assert account.locked_until > utcnow() + timedelta(minutes=14)
    assert "staff.locked" in audit_actions()

    account.locked_until = utcnow() - timedelta(seconds=1)  # the lock has run out
    db.session.commit()
    assert sign_in(client, staff_user.email).status_code == 303
    assert db.session.get(StaffUser, staff_user.id).failed_logins == 0


def test_a_disabled_account_cannot_sign_in_and_its_session_ends(client, make_staff, staff_user):
    editor = make_staff("editor@example.com", role="editor")
    assert sign_in(client, editor.email).status_code == 303
    staff.set_active(Actor("test", staff_user.id), editor.id, False)
    as_a_new_request()
    assert client.get("/admin/").status_code == 302
    assert sign_in(client, editor.email).status_code == 400


def test_sign_out_ends_the_session(signed_in_client):
    assert signed_in_client.get("/admin/logout").status_code == 405  # a GET never signs out
    token = csrf_token(signed_in_client, "/admin/")
    response = signed_in_client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/login"
    assert signed_in_client.get("/admin/").headers["Location"].startswith("/admin/login")


def admin_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            url = rule.rule
            for argument in rule.arguments:
                url = url.replace(f"<int:{argument}>", "1").replace(f"<{argument}>", "1")
            yield rule, url


def test_every_admin_url_refuses_anonymous_requests(app, client, staff_user):
    # With a valid CSRF token, so that it is the sign-in guard that refuses.
    token = csrf_token(client, "/admin/login")
    checked = 0
    for rule, url in admin_rules(app):
        if rule.endpoint == "admin.login":
            continue
        for method in {"GET", "POST"} & rule.methods:
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code in (302, 401, 403), (method, url, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/admin/login"), url
            checked += 1
    assert checked >= 15


def test_every_admin_post_without_a_csrf_token_is_refused(app, signed_in_client):
    posts = [url for rule, url in admin_rules(app) if "POST" in rule.methods]
    assert len(posts) >= 12
    for url in posts:
        response = signed_in_client.post(url, data={"confirm_erase": "yes", "action": "erase"})
        assert response.status_code == 400, url
        assert "This form has expired" in response.get_data(as_text=True)
    assert signed_in_client.get("/admin/").status_code == 200  # still signed in


def test_editors_may_not_manage_staff(client, make_staff, staff_user):
    editor = make_staff("editor@example.com", role="editor")
    sign_in(client, editor.email)
    token = csrf_token(client, "/admin/")
    assert client.get("/admin/staff").status_code == 403
    assert client.post("/admin/staff", data={"csrf_token": token, "email": "x@example.com",
                                             "role": "owner", "password": STAFF_PASSWORD}).status_code == 403
    assert client.post(f"/admin/staff/{editor.id}/role",
                       data={"csrf_token": token, "role": "owner"}).status_code == 403
    assert 'href="/admin/staff"' not in client.get("/admin/").get_data(as_text=True)
    with pytest.raises(Forbidden):
        staff.change_role(Actor(editor.email, editor.id), editor.id, StaffRole.OWNER)
    assert db.session.get(StaffUser, editor.id).role == StaffRole.EDITOR


def test_owners_add_staff_and_change_roles_but_keep_one_owner(signed_in_client, staff_user):
    token = csrf_token(signed_in_client, "/admin/staff")
    response = signed_in_client.post("/admin/staff", data={
        "csrf_token": token, "email": "new@example.com", "role": "editor", "password": STAFF_PASSWORD})
    assert response.status_code == 303
    new = db.session.scalar(select(StaffUser).where(StaffUser.email == "new@example.com"))
    assert new.role == StaffRole.EDITOR
    short = signed_in_client.post("/admin/staff", data={
        "csrf_token": token, "email": "short@example.com", "role": "editor", "password": "short"})
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)

    signed_in_client.post(f"/admin/staff/{new.id}/role", data={"csrf_token": token, "role": "owner"})
    assert db.session.get(StaffUser, new.id).role == StaffRole.OWNER
    staff.change_role(Actor("test", new.id), staff_user.id, StaffRole.EDITOR)
    with pytest.raises(InvalidInput, match="at least one active owner"):
        staff.change_role(Actor("test", new.id), new.id, StaffRole.EDITOR)
    with pytest.raises(InvalidInput, match="at least one active owner"):
        staff.set_active(Actor("test", new.id), new.id, False)
    assert "staff.change" in audit_actions()


def test_new_staff_default_to_editor_and_the_only_owner_cannot_disable_or_demote_themselves(
        signed_in_client, staff_user):
    page = signed_in_client.get("/admin/staff").get_data(as_text=True)
    assert '<option selected value="editor">' in page or '<option value="editor" selected>' in page
    token = csrf_token(signed_in_client, "/admin/staff")
    for path, data in ((f"/admin/staff/{staff_user.id}/active", {"active": "0"}),
                       (f"/admin/staff/{staff_user.id}/role", {"role": "editor"})):
        response = signed_in_client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
        assert "You are the only active owner" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (staff_user.is_active, staff_user.role) == (True, StaffRole.OWNER)


def test_passwords_are_argon2id_at_owasp_cost_and_rehashed_when_the_cost_changes(app, client):
    app.config.update(ARGON2_MEMORY_COST_KIB=19456, ARGON2_TIME_COST=2, ARGON2_PARALLELISM=1)
    user = staff.create_staff(Actor("test"), "hash@example.com", STAFF_PASSWORD, StaffRole.OWNER)
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert STAFF_PASSWORD not in user.password_hash
    app.config.update(ARGON2_MEMORY_COST_KIB=2048)
    assert sign_in(client, "hash@example.com").status_code == 303
    assert db.session.get(StaffUser, user.id).password_hash.startswith("$argon2id$v=19$m=2048,")


def test_sign_in_posts_are_rate_limited_per_address(database_url, app):
    limited = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                          "RATELIMIT_ENABLED": True, "STAFF_LOGIN_RATE_LIMIT": "3 per minute"})
    client = limited.test_client()
    answers = [sign_in(client, "someone@example.com", "wrong password!!").status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]


def test_production_cookies_are_secure_httponly_and_same_site_lax():
    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY and ProductionConfig.REMEMBER_COOKIE_HTTPONLY
    assert ProductionConfig.SESSION_COOKIE_SAMESITE == ProductionConfig.REMEMBER_COOKIE_SAMESITE == "Lax"


def test_session_cookie_is_httponly_and_lax(client, staff_user):
    cookie = sign_in(client, staff_user.email).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cli_creates_staff_from_stdin_or_a_prompt(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["admin", "create", "First@Example.com", "--password-stdin"],
                          input=STAFF_PASSWORD + "\n")
    assert first.exit_code == 0, first.output
    assert "created owner First@example.com" in first.output
    second = runner.invoke(args=["admin", "create", "second@example.com"],
                           input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n")
    assert second.exit_code == 0 and "created editor second@example.com" in second.output
    again = runner.invoke(args=["admin", "create", "FIRST@example.com", "--password-stdin"],
                          input=STAFF_PASSWORD + "\n")
    assert again.exit_code != 0 and "already exists" in again.output
    weak = runner.invoke(args=["admin", "create", "weak@example.com", "--password-stdin", "--role", "owner"],
                         input="short\n")
    assert weak.exit_code != 0 and "at least 12" in weak.output
    accounts = db.session.scalars(select(StaffUser).order_by(StaffUser.id)).all()
    assert [(a.email, a.role) for a in accounts] == [
        ("First@example.com", StaffRole.OWNER), ("second@example.com", StaffRole.EDITOR)]
    assert sign_in(app.test_client(), "first@example.com").status_code == 303


def test_every_console_page_renders_for_a_signed_in_owner(app, signed_in_client, newsletter, origin, make_cohort):
    for endpoint, path in console_paths(app, seed_console(make_cohort, origin)):
        if endpoint == "admin.login":
            continue  # a signed-in owner is sent on to the dashboard
        response = signed_in_client.get(path)
        body = response.get_data(as_text=True)  # read to the end, as a download is
        assert response.status_code == 200, path
        if not is_download(path):
            assert "<h1>" in body, path


NEW_PASSWORD = "a much longer new passphrase"


def change_password(client, current: str, new: str, again: str | None = None):
    token = csrf_token(client, "/admin/account")
    return client.post("/admin/account", data={"csrf_token": token, "current_password": current,
                                               "new_password": new, "confirm_password": again or new})


def test_staff_change_their_password_and_other_browsers_are_signed_out(app, signed_in_client, staff_user):
    other_browser = app.test_client()
    as_a_new_request()
    assert sign_in(other_browser, staff_user.email).status_code == 303
    as_a_new_request()

    wrong = change_password(signed_in_client, "not my password", NEW_PASSWORD)
    assert wrong.status_code == 400 and "That is not your current password." in wrong.get_data(as_text=True)
    short = change_password(signed_in_client, STAFF_PASSWORD, "too short")
    assert short.status_code == 400 and "at least 12" in short.get_data(as_text=True)
    typo = change_password(signed_in_client, STAFF_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert typo.status_code == 400 and "The two new passwords differ." in typo.get_data(as_text=True)

    as_a_new_request()
    changed = change_password(signed_in_client, STAFF_PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 303
    as_a_new_request()
    assert "Your password is changed" in signed_in_client.get("/admin/account").get_data(as_text=True)
    as_a_new_request()
    assert other_browser.get("/admin/").headers["Location"].startswith("/admin/login")
    as_a_new_request()
    assert sign_in(app.test_client(), staff_user.email).status_code == 400
    as_a_new_request()
    assert sign_in(app.test_client(), staff_user.email, NEW_PASSWORD).status_code == 303
    assert "staff.password_changed" in audit_actions()


def test_cli_sets_a_forgotten_password_lifts_the_lock_and_signs_browsers_out(app, client, staff_user):
    for _ in range(app.config["STAFF_MAX_FAILED_LOGINS"]):
        assert sign_in(client, staff_user.email, "wrong password!!").status_code == 400
    runner = app.test_cli_runner()
    result = runner.invoke(args=["admin", "set-password", "OWNER@example.com", "--password-stdin"],
                           input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0 and "password set for owner@example.com" in result.output
    assert sign_in(client, staff_user.email, NEW_PASSWORD).status_code == 303
    assert "staff.password_reset" in audit_actions()

    runner.invoke(args=["admin", "set-password", "owner@example.com", "--password-stdin"],
                  input=STAFF_PASSWORD + "\n")
    as_a_new_request()
    assert client.get("/admin/").headers["Location"].startswith("/admin/login")
    unknown = runner.invoke(args=["admin", "set-password", "nobody@example.com", "--password-stdin"],
                            input=NEW_PASSWORD + "\n")
    assert unknown.exit_code != 0 and "No staff account" in unknown.output


def test_guessing_the_current_password_on_the_account_page_locks_the_account(app, signed_in_client, staff_user):
    for _ in range(app.config["STAFF_MAX_FAILED_LOGINS"]):
        assert change_password(signed_in_client, "a guess at the password", NEW_PASSWORD).status_code == 400
    assert db.session.get(StaffUser, staff_user.id).locked_until > utcnow()
    assert "staff.locked" in audit_actions()
