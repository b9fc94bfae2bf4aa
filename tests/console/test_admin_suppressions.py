"""The suppression list in the console: search, add with a note, remove (owners only,
audited), CSV download (formula-safe); imported cleaned rows show there too."""

import csv
import io

from sqlalchemy import select

from extensions import db
from models import AuditEvent, Subscriber, Suppression, SuppressionReason
from services.core.pagination import DEFAULT_PAGE_SIZE
from tests.support import csrf_token, sign_in


def _add(client, email: str, note: str = ""):
    token = csrf_token(client, "/admin/suppressions")
    return client.post("/admin/suppressions", data={"csrf_token": token, "email": email, "note": note})


def _remove(client, address: str):
    token = csrf_token(client, "/admin/suppressions")
    return client.post("/admin/suppressions/remove", data={"csrf_token": token, "address": address})


def test_staff_add_an_address_with_a_note_and_find_it(signed_in_client):
    db.session.add(Subscriber(email="Known@Example.com"))
    db.session.commit()
    assert _add(signed_in_client, " Known@Example.com ", "asked by phone").status_code == 303
    listed = db.session.scalar(select(Suppression))
    assert (listed.address, listed.reason, listed.detail, listed.created_by) == (
        "known@example.com", SuppressionReason.STAFF, "asked by phone", "owner@example.com")
    assert db.session.scalar(select(Subscriber.suppression_reason)) == "staff"  # its subscriber is flagged
    added = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "suppression.add"))
    assert added.target == "known@example.com" and added.details == {"note": "asked by phone"}

    page = signed_in_client.get("/admin/suppressions?q=KNOWN").get_data(as_text=True)
    assert "known@example.com" in page and "asked by phone" in page and "Added by staff" in page
    assert "known@example.com" not in signed_in_client.get("/admin/suppressions?q=other").get_data(as_text=True)
    assert "already suppressed" in signed_in_client.get(
        _add(signed_in_client, "known@example.com").headers["Location"]).get_data(as_text=True)


def test_a_bad_address_or_note_is_refused_and_changes_nothing(signed_in_client):
    for email, note in [("not an address", ""), ("", ""), ("fine@example.com", "x" * 501),
                        ("fine@example.com", "bell\x07")]:
        response = _add(signed_in_client, email, note)
        assert response.status_code == 400, (email, note)
        assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Suppression)) is None
    token = csrf_token(signed_in_client, "/admin/suppressions")
    assert signed_in_client.post("/admin/suppressions", data={"email": "a@example.com"}).status_code == 400
    for query in ("%", "_", "\\", "x" * 5000, "\x00"):
        assert signed_in_client.get("/admin/suppressions", query_string={"q": query}).status_code == 200
    assert signed_in_client.get("/admin/suppressions?after=garbage").status_code == 200
    assert signed_in_client.post("/admin/suppressions/remove", data={"csrf_token": token}).status_code == 303


def test_only_an_owner_removes_an_address_and_it_is_audited(client, make_staff, staff_user):
    make_staff("editor@example.com", role="editor")
    sign_in(client, "editor@example.com")
    assert _add(client, "gone@example.com", "typo").status_code == 303
    page = client.get("/admin/suppressions").get_data(as_text=True)
    assert "gone@example.com" in page and "/admin/suppressions/remove" not in page
    assert _remove(client, "gone@example.com").status_code == 403
    assert db.session.scalar(select(Suppression.address)) == "gone@example.com"

    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/suppressions")})
    sign_in(client, staff_user.email)
    assert "Remove" in client.get("/admin/suppressions").get_data(as_text=True)
    assert client.post("/admin/suppressions/remove", data={"address": "gone@example.com"}).status_code == 400  # no CSRF
    assert _remove(client, "Gone@Example.com").status_code == 303
    db.session.rollback()
    assert db.session.scalar(select(Suppression)) is None
    removed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "suppression.remove"))
    assert (removed.actor, removed.target, removed.details) == ("owner@example.com", "gone@example.com",
                                                                {"reason": "staff"})
    assert "not on the suppression list" in client.get(
        _remove(client, "gone@example.com").headers["Location"]).get_data(as_text=True)


def test_the_list_pages_newest_first(signed_in_client):
    db.session.add_all([Suppression(address=f"p{n:03}@example.com", reason=SuppressionReason.HARD_BOUNCE)
                        for n in range(DEFAULT_PAGE_SIZE + 3)])
    db.session.commit()
    first = signed_in_client.get("/admin/suppressions").get_data(as_text=True)
    assert f"p{DEFAULT_PAGE_SIZE + 2:03}@example.com" in first and "p000@example.com" not in first
    older = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = signed_in_client.get(older).get_data(as_text=True)
    assert "p000@example.com" in second and f"p{DEFAULT_PAGE_SIZE + 2:03}@example.com" not in second


def test_the_csv_download_is_the_whole_list_formula_safe_and_audited(signed_in_client):
    db.session.add_all([
        Suppression(address="=cmd@example.com", reason=SuppressionReason.IMPORTED_CLEANED, created_by="import"),
        Suppression(address="bounced@example.com", reason=SuppressionReason.HARD_BOUNCE,
                    detail="550 5.1.1 user unknown", created_by="dsn")])
    db.session.commit()
    response = signed_in_client.get("/admin/suppressions/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "suppressions-" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["address", "reason", "detail", "created_at", "created_by"]
    assert [row[:3] for row in rows[1:]] == [["'=cmd@example.com", "imported_cleaned", ""],
                                             ["bounced@example.com", "hard_bounce", "550 5.1.1 user unknown"]]
    db.session.rollback()
    exported = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "suppressions.export"))
    assert exported.details == {"rows": 2, "completed": True}
    page = signed_in_client.get("/admin/suppressions").get_data(as_text=True)
    assert "Imported as cleaned" in page and 'href="/admin/suppressions"' in page  # in the navigation


def test_an_unstorable_address_to_remove_is_simply_not_listed(signed_in_client):
    assert "not on the suppression list" in signed_in_client.get(
        _remove(signed_in_client, "a\x00@example.com").headers["Location"]).get_data(as_text=True)
