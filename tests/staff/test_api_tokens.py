"""Staff API tokens: stored hashed, scoped, labelled, revocable, managed from the CLI."""

import hashlib

import pytest
from sqlalchemy import select

from extensions import db
from models import ApiToken, AuditEvent, StaffUser


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_cli_creates_a_token_shown_once_and_stored_as_a_hash(app):
    db.session.add(StaffUser(email="Editor@example.com", password_hash="x"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["api-tokens", "create", "--staff", "editor@EXAMPLE.com",
                                                "--scope", "read-write", "--label", "CRM sync"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    row = db.session.scalars(select(ApiToken)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash, row.prefix) and token.startswith(row.prefix)
    assert row.scope == "read-write" and row.staff_user.email == "Editor@example.com" and row.label == "CRM sync"
    assert "CRM sync" in app.test_cli_runner().invoke(args=["api-tokens", "list"]).output
    assert db.session.scalars(select(AuditEvent.action)).all() == ["api_token.create"]


def test_cli_refuses_unknown_staff_and_unknown_scope(app):
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["api-tokens", "create", "--staff", "nobody@example.com"])
    assert unknown.exit_code != 0 and "No active staff account" in unknown.output
    db.session.add(StaffUser(email="s@example.com", password_hash="x"))
    db.session.commit()
    bad_scope = runner.invoke(args=["api-tokens", "create", "--staff", "s@example.com", "--scope", "admin"])
    assert bad_scope.exit_code != 0
    assert db.session.scalars(select(ApiToken)).all() == []


def test_cli_revokes_and_lists(app, client, issue_api_token):
    token = issue_api_token("read")
    token_id = db.session.scalars(select(ApiToken.id)).one()
    assert client.get("/api/v1/subscribers", headers=bearer(token)).status_code == 200
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-tokens", "revoke", str(token_id)])
    assert result.exit_code == 0 and "revoked" in result.output
    assert "revoked" in runner.invoke(args=["api-tokens", "list"]).output
    assert runner.invoke(args=["api-tokens", "revoke", "999999"]).exit_code != 0


def test_staff_api_without_a_token_or_with_a_bad_one_is_401(client, issue_api_token):
    issue_api_token("read")
    for headers in ({}, bearer("roster_not-a-real-token"), {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = client.get("/api/v1/subscribers", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_401(app, client, issue_api_token):
    token = issue_api_token("read-write")
    app.test_cli_runner().invoke(args=["api-tokens", "revoke", str(db.session.scalars(select(ApiToken.id)).one())])
    assert client.get("/api/v1/subscribers", headers=bearer(token)).status_code == 401


def test_token_of_a_deactivated_staff_member_is_401(client, issue_api_token):
    token = issue_api_token("read")
    db.session.scalars(select(StaffUser)).one().is_active = False
    db.session.commit()
    assert client.get("/api/v1/subscribers", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("scope, expected", [("read", 403), ("read-write", 404)])
def test_read_token_may_not_write(client, issue_api_token, scope, expected):
    response = client.post("/api/v1/subscribers/12345/unsubscribe", headers=bearer(issue_api_token(scope)))
    assert response.status_code == expected
    assert response.mimetype == "application/problem+json"


def test_use_is_recorded(client, issue_api_token):
    token = issue_api_token("read")
    assert db.session.scalars(select(ApiToken.last_used_at)).one() is None
    client.get("/api/v1/subscribers", headers=bearer(token))
    db.session.expire_all()
    assert db.session.scalars(select(ApiToken.last_used_at)).one() is not None
