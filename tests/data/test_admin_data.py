"""The console's export and import pages: streamed, formula-safe, audited downloads;
upload → dry run → column map → import, each step run by the worker; refusals; the
opt-in request."""

import io
import re
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    AuditEvent,
    Enrollment,
    EnrollmentStatus,
    ImportJob,
    ImportStatus,
    OutboxMessage,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from services.data import imports
from services.subscriptions import subscriptions
from services.worker.runner import Worker
from tests.data.test_exports import add_subscriptions, read_csv
from tests.data.test_imports import MAILCHIMP_FILES
from tests.support import csrf_token

DANGEROUS_NAME = "=cmd|' /C calc'!A0"


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def audit_events(action: str) -> list[AuditEvent]:
    db.session.rollback()  # exports audit on their own connection
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def stored_uploads(app):
    """The uploads stored during the test (the folder is the app's instance folder)."""
    before = set(imports.upload_dir().glob("*"))
    return lambda: set(imports.upload_dir().glob("*")) - before


def mailchimp_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for csv_file in MAILCHIMP_FILES:
            archive.write(csv_file, f"audience_export/{csv_file.name}")
    return buffer.getvalue()


def upload(client, content: bytes, filename: str = "members.csv", list_slug: str = ""):
    token = csrf_token(client, "/admin/imports")
    return client.post("/admin/imports/upload", content_type="multipart/form-data", data={
        "csrf_token": token, "list": list_slug, "file": (io.BytesIO(content), filename)})


def page_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def analysed(app, client, response) -> tuple[str, str]:
    """The import page an upload led to, once the worker has checked the file: its URL and text."""
    assert response.status_code == 303, response.get_data(as_text=True)
    job_url = response.headers["Location"]
    Worker(app).run_once()
    return job_url, client.get(job_url).get_data(as_text=True)


def press(client, job_url: str, step: str, **fields) -> str:
    """Press one of an import page's buttons; the page it leads back to."""
    token = page_token(client.get(job_url).get_data(as_text=True))
    response = client.post(f"{job_url}/{step}", data={"csrf_token": token, **fields})
    assert response.status_code == 303 and response.headers["Location"] == job_url
    return client.get(job_url).get_data(as_text=True)


def start_and_wait(app, client, job_url: str) -> ImportJob:
    queued = press(client, job_url, "start")
    assert 'http-equiv="refresh"' in queued and "<progress" in queued  # the page follows the worker
    Worker(app).run_once()
    page = client.get(job_url).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "<progress" in page
    db.session.rollback()
    return db.session.get(ImportJob, int(job_url.rsplit("/", 1)[1]))


def test_subscriber_export_streams_escapes_and_is_audited(signed_in_client, newsletter):
    db.session.add(Subscription(subscriber=Subscriber(email="evil@example.com", full_name=DANGEROUS_NAME),
                                mailing_list=newsletter, status=SubscriptionStatus.CONFIRMED))
    db.session.commit()
    add_subscriptions(newsletter, 5000)
    response = signed_in_client.get("/admin/subscribers/export.csv?list=updates&status=confirmed&bom=1")
    assert response.status_code == 200 and response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r'attachment; filename="subscribers-updates-confirmed-\d{4}-\d\d-\d\d\.csv"',
                        response.headers["Content-Disposition"])
    chunks = iter(response.response)
    first = next(chunks) + next(chunks)
    # The first rows are out before the rest are read: the audit row is written at the end.
    assert first.startswith(b"\xef\xbb\xbfEmail Address,") and first.count(b"\r\n") < 5000
    assert audit_events("subscribers.export") == []
    data = first + b"".join(chunks)
    response.close()
    rows = read_csv(data)
    assert len(rows) == 5001 and rows[0]["Full Name"] == "'" + DANGEROUS_NAME
    [event] = audit_events("subscribers.export")
    assert (event.action, event.actor, event.details["rows"], event.details["completed"]) == (
        "subscribers.export", "owner@example.com", 5001, True)
    assert event.details["filters"] == {"list": "updates", "status": ["confirmed"]}


def test_export_page_and_its_refusals(signed_in_client, newsletter):
    page = signed_in_client.get("/admin/export").get_data(as_text=True)
    assert 'action="/admin/subscribers/export.csv"' in page and 'name="bom" value="1"' in page
    assert 'value="cleaned"' in page and 'href="/admin/export"' in page  # the navigation entry
    refused = signed_in_client.get("/admin/subscribers/export.csv?list=nope")
    assert refused.status_code == 400 and "There is no list" in refused.get_data(as_text=True)
    assert audit_events("subscribers.export") == []


def test_subscribers_page_links_the_export_with_its_list_and_status(signed_in_client, newsletter, origin):
    subscriptions.subscribe("reader@example.com", "", origin)
    page = signed_in_client.get(f"/admin/subscribers?list={newsletter.id}&status=pending").get_data(as_text=True)
    assert 'href="/admin/subscribers/export.csv?list=updates&amp;status=pending"' in page
    plain = signed_in_client.get("/admin/subscribers").get_data(as_text=True)
    assert 'href="/admin/subscribers/export.csv"' in plain
    rows = read_csv(signed_in_client.get("/admin/subscribers/export.csv?list=updates&status=pending").data)
    assert [row["Email Address"] for row in rows] == ["reader@example.com"]


def test_cohort_enrolments_export(signed_in_client, make_cohort):
    cohort = make_cohort()
    other = make_cohort(label="Other cohort")
    paid = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    db.session.add_all([
        Enrollment(cohort=cohort, full_name=DANGEROUS_NAME, email="evil@example.com", phone="+441632960961",
                   country="GB", organisation="@Org", status=EnrollmentStatus.CONFIRMED, paid_at=paid),
        Enrollment(cohort=cohort, full_name="Wait Ing", email="wait@example.com",
                   status=EnrollmentStatus.WAITLISTED, waitlist_position=1),
        Enrollment(cohort=other, full_name="Else Where", email="else@example.com"),
    ])
    db.session.commit()
    page = signed_in_client.get(f"/admin/cohorts/{cohort.id}/enrollments").get_data(as_text=True)
    assert f'href="/admin/enrollments/export.csv?cohort={cohort.id}"' in page
    response = signed_in_client.get(f"/admin/enrollments/export.csv?cohort={cohort.id}")
    assert response.is_streamed and response.headers["Content-Disposition"].startswith(
        'attachment; filename="enrollments-ir-certificate-')
    rows = read_csv(response.data)
    assert [row["Email"] for row in rows] == ["evil@example.com", "wait@example.com"]
    evil, waiting = rows
    assert (evil["Name"], evil["Phone"], evil["Organisation"]) == ("'" + DANGEROUS_NAME, "'+441632960961", "'@Org")
    assert (evil["Country"], evil["Status"], evil["Paid at"]) == ("GB", "confirmed", "2026-05-06 07:08:09")
    assert (waiting["Status"], waiting["Waitlist position"], waiting["Paid at"]) == ("waitlisted", "1", "")
    [event] = audit_events("enrollments.export")
    assert (event.action, event.target, event.details["rows"]) == ("enrollments.export", f"cohort:{cohort.id}", 2)
    assert signed_in_client.get("/admin/enrollments/export.csv?cohort=999999").status_code == 404
    assert signed_in_client.get("/admin/enrollments/export.csv").status_code == 404


def test_mailchimp_zip_upload_dry_run_then_import_in_the_worker(app, signed_in_client, newsletter, stored_uploads):
    response = upload(signed_in_client, mailchimp_zip_bytes(), "audience_export.zip")
    assert response.status_code == 303
    waiting = signed_in_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "checking the file" in waiting and 'http-equiv="refresh"' in waiting  # the worker has not run yet
    job_url, page = analysed(app, signed_in_client, response)
    assert "Dry run of audience_export.zip" in page and 'http-equiv="refresh"' not in page
    assert "mailchimp" in page and "<dt>Rows</dt><dd>6</dd>" in page and "<dt>Invalid</dt><dd>0</dd>" in page
    assert count(Subscriber) == 0  # a dry run writes nothing

    job = start_and_wait(app, signed_in_client, job_url)
    assert (job.status, job.file_format, job.processed_rows, job.created_count) == (
        ImportStatus.DONE, "mailchimp", 6, 6)
    assert count(Subscriber) == 6 and count(OutboxMessage) == 0  # nobody is mailed
    assert stored_uploads() == set()
    listing = signed_in_client.get("/admin/imports").get_data(as_text=True)
    assert f'href="{job_url}"' in listing and "audience_export.zip" in listing


BIG_ROW = ",".join(["x" * 5000] * 20)


@pytest.mark.parametrize(("content", "message"), [
    (b"Email Address;First Name;Last Name\nada@example.com;Ada;L\n", "separated by semicolons"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00", "not UTF-8"),
    (b"email,name\nada@example.com,Ada\n\x00\x01\x02binary,junk\n", "binary data"),
    (b"PK\x03\x04 this is not really a zip", "damaged"),
    (b"", "empty"),
])
def test_a_malformed_upload_gives_a_clear_error_and_writes_nothing(app, signed_in_client, newsletter, stored_uploads,
                                                                   content, message):
    job_url, page = analysed(app, signed_in_client, upload(signed_in_client, content))
    assert "The file was not imported" in page and message in page
    assert "Start import" not in page and 'http-equiv="refresh"' not in page
    assert count(Subscriber) == 0 and db.session.get(ImportJob, int(job_url.rsplit("/", 1)[1])).status == "refused"
    assert stored_uploads() == set()  # the refused file is not kept


def test_a_file_without_an_email_column_asks_for_the_columns(app, signed_in_client, newsletter, stored_uploads):
    job_url, page = analysed(app, signed_in_client, upload(signed_in_client, b"Name,Phone\nAda,123\n"))
    assert "No email column found" in page and '<select name="map_email"' in page
    assert count(Subscriber) == 0
    assert len(stored_uploads()) == 1  # kept for the mapping step, until discarded
    assert "nothing was imported" in press(signed_in_client, job_url, "discard")
    assert stored_uploads() == set()
    refused = signed_in_client.post(f"{job_url}/start", data={"csrf_token": csrf_token(signed_in_client, job_url)})
    assert "it cannot be started now" in signed_in_client.get(refused.headers["Location"]).get_data(as_text=True)


def test_uploads_over_the_cap_are_refused_but_the_cap_is_not_the_app_wide_one(app, signed_in_client, newsletter,
                                                                             stored_uploads):
    big = ("email," + ",".join(f"c{n}" for n in range(20)) + "\n").encode() + b"".join(
        f"r{n}@example.com,{BIG_ROW}\n".encode() for n in range(12))
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    job_url, accepted = analysed(app, signed_in_client, upload(signed_in_client, big))
    assert "<dt>Valid</dt><dd>12</dd>" in accepted
    press(signed_in_client, job_url, "discard")
    assert stored_uploads() == set()

    app.config["IMPORT_MAX_BYTES"] = 2048
    for size in (3000, 200_000):  # over the file cap; over the request cap as well
        refused = upload(signed_in_client, b"email\n" + b"a" * size)
        assert refused.status_code == 413
        assert "larger than the 2,048 bytes limit" in refused.get_data(as_text=True)
    assert count(ImportJob) == 1 and stored_uploads() == set()


def test_column_mapping_step_and_the_error_csv(app, signed_in_client, newsletter):
    content = b"Kontakt,Vorname,Nachname\nkarl@example.de,Karl,Marx\n=HYPERLINK(1),Bad,Row\n"
    job_url, mapping = analysed(app, signed_in_client, upload(signed_in_client, content, "crm.csv"))
    assert '<option value="Kontakt">Kontakt</option>' in mapping
    checking = press(signed_in_client, job_url, "columns", map_email="Kontakt", map_first_name="Vorname",
                     map_last_name="Nachname")
    assert "checking the file" in checking
    Worker(app).run_once()
    review = signed_in_client.get(job_url).get_data(as_text=True)
    assert "<dt>Valid</dt><dd>1</dd>" in review and "<dt>Invalid</dt><dd>1</dd>" in review
    assert "email = Kontakt" in review

    job = start_and_wait(app, signed_in_client, job_url)
    assert (job.created_count, job.invalid_count, job.column_map["email"]) == (1, 1, "Kontakt")
    karl = db.session.scalar(select(Subscriber).where(Subscriber.email == "karl@example.de"))
    assert karl.full_name == "Karl Marx"
    page = signed_in_client.get(job_url).get_data(as_text=True)
    assert f'href="{job_url}/errors.csv"' in page
    errors = signed_in_client.get(f"{job_url}/errors.csv")
    assert errors.mimetype == "text/csv" and errors.headers["Content-Disposition"].startswith("attachment;")
    [row] = read_csv(errors.data)
    assert (row["Line"], row["Email Address"]) == ("3", "'=HYPERLINK(1)")


def test_the_mapping_step_shows_each_columns_first_values(app, signed_in_client, newsletter):
    content = b"Kontakt,Vorname,Leer\nkarl@example.de,<b>Karl</b>,\nrosa@example.de,,\nclara@example.de,Clara,\n"
    _, mapping = analysed(app, signed_in_client, upload(signed_in_client, content, "crm.csv"))
    assert ('<th scope="row">Kontakt</th>\n      <td><code class="sample">karl@example.de</code> '
            '<code class="sample">rosa@example.de</code> <code class="sample">clara@example.de</code></td>') in mapping
    assert '<code class="sample">&lt;b&gt;Karl&lt;/b&gt;</code> <code class="sample">Clara</code></td>' in mapping
    assert '<th scope="row">Leer</th>\n      <td><span class="muted">empty</span></td>' in mapping
    assert "<b>Karl" not in mapping


def test_the_import_pages_name_the_file_and_the_list_and_count_what_is_there(app, signed_in_client, newsletter,
                                                                              make_list):
    weekly = make_list("weekly", name="Weekly <digest>")
    db.session.add(Subscription(subscriber=Subscriber(email="old@example.com"), mailing_list=weekly))
    db.session.commit()
    content = b"email\nold@example.com\nnew@example.com\nbad\n"
    job_url, review = analysed(app, signed_in_client, upload(signed_in_client, content, "Spring members.csv", "weekly"))
    assert ("The file <strong>Spring members.csv</strong>, into the list\n"
            "  <strong>Weekly &lt;digest&gt;</strong>") in review
    assert "<td>Spring members.csv</td><td>csv</td>" in review and ".upload" not in review
    assert "<dt>New to the list</dt><dd>1</dd>" in review and "<dt>Already present</dt><dd>1</dd>" in review
    assert "<dt>Invalid</dt><dd>1</dd>" in review
    assert '<div class="actions">\n<form method="post" action="' + job_url + '/start" class="inline">' in review
    listing = signed_in_client.get("/admin/imports").get_data(as_text=True)
    assert "<td>Weekly &lt;digest&gt;</td>" in listing
    done = start_and_wait(app, signed_in_client, job_url)
    assert "<strong>Weekly &lt;digest&gt;</strong>" in signed_in_client.get(job_url).get_data(as_text=True)
    assert done.created_count == 1


def test_opt_in_request_mails_only_the_pending_people_the_import_added(app, signed_in_client, newsletter, make_list,
                                                                       origin, deliver):
    make_list("other")
    db.session.add(Subscription(subscriber=Subscriber(email="old@example.com"), mailing_list=newsletter,
                                status=SubscriptionStatus.PENDING))
    db.session.commit()
    subscriptions.subscribe("recent@example.com", "", origin, list_slug="other")  # mailed a moment ago
    listmonk = (b"uuid,email,name,attributes,status\n1,new@example.com,New One,{},enabled\n"
                b"2,recent@example.com,Recent,{},enabled\n3,blocked@example.com,Block,{},blocklisted\n"
                b"4,old@example.com,Old,{},enabled\n5,gone@example.com,Gone,{},enabled\n"
                b"6,sure@example.com,Sure,{},enabled\n")
    job_url, _ = analysed(app, signed_in_client, upload(signed_in_client, listmonk, "listmonk.csv"))
    job = start_and_wait(app, signed_in_client, job_url)
    assert (job.created_count, job.skipped_count) == (5, 1)
    gone = db.session.scalar(select(Subscriber).where(Subscriber.email == "gone@example.com"))
    gone.suppressed_at, gone.suppression_reason = datetime.now(UTC), "cleaned"
    sure = db.session.scalar(select(Subscription).join(Subscriber).where(Subscriber.email == "sure@example.com"))
    sure.status = SubscriptionStatus.CONFIRMED
    db.session.commit()
    page = signed_in_client.get(f"/admin/imports/{job.id}").get_data(as_text=True)
    assert "Send an opt-in request" in page

    token = csrf_token(signed_in_client, f"/admin/imports/{job.id}")
    response = signed_in_client.post(f"/admin/imports/{job.id}/opt-in", data={"csrf_token": token})
    assert response.status_code == 303
    assert "Queued 1 confirmation mails" in signed_in_client.get(response.headers["Location"]).get_data(as_text=True)
    mails = deliver(2)
    assert sorted(mail["To"] for mail in mails) == ["New One <new@example.com>", "recent@example.com"]
    [confirm] = [mail for mail in mails if "new@example.com" in mail["To"]]
    assert confirm["Subject"] == "Please confirm your subscription to International Relations Updates"
    [event] = audit_events("subscribers.import_opt_in")
    assert event.details == {"job": job.id, "pending": 2, "queued": 1}

    again = signed_in_client.post(f"/admin/imports/{job.id}/opt-in", data={"csrf_token": token})
    assert "was sent on" in signed_in_client.get(again.headers["Location"]).get_data(as_text=True)
    assert count(OutboxMessage) == 2
