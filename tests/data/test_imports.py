"""Imports: Mailchimp fixtures (CSV and zip), idempotency, statuses, consent, errors."""

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    AuditEvent,
    ConsentAction,
    ConsentEvent,
    ErasureTombstone,
    ImportJob,
    ImportStatus,
    Job,
    JobStatus,
    OutboxMessage,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from services.core.audit import CLI, Actor
from services.core.errors import InvalidInput
from services.data import import_formats, import_steps, imports
from services.data.exports import SubscriberFilters, export_subscribers
from services.privacy.privacy import address_hash
from services.subscriptions import subscriptions
from services.subscriptions.consent import ConsentOrigin
from services.worker.runner import Worker

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mailchimp"
MAILCHIMP_FILES = sorted(FIXTURES.glob("*.csv"))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def mailchimp_zip(tmp_path) -> Path:
    path = tmp_path / "audience_export_4f7e1c2a9b.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for csv_file in MAILCHIMP_FILES:
            archive.write(csv_file, f"audience_export/{csv_file.name}")
    return path


def import_file(path, actor=CLI, **options) -> ImportJob:
    job = imports.run_import(imports.create_job(str(path), actor, **options))
    db.session.rollback()
    return job


def snapshot() -> dict:
    db.session.rollback()
    return {
        "subscribers": db.session.execute(select(Subscriber.id, Subscriber.email, Subscriber.full_name,
                                                 Subscriber.suppressed_at).order_by(Subscriber.id)).all(),
        "subscriptions": db.session.execute(select(Subscription.subscriber_id, Subscription.status,
                                                   Subscription.requested_at, Subscription.confirmed_at,
                                                   Subscription.unsubscribed_at).order_by(Subscription.id)).all(),
        "consent": db.session.execute(select(ConsentEvent.subscriber_id, ConsentEvent.action, ConsentEvent.occurred_at,
                                             ConsentEvent.ip).order_by(ConsentEvent.id)).all(),
    }


def state_of(email: str) -> tuple:
    subscriber = db.session.scalar(select(Subscriber).where(func.lower(Subscriber.email) == email.lower()))
    [subscription] = subscriber.subscriptions
    return subscription.status, subscriber.suppressed_at


def test_mailchimp_zip_keeps_statuses_and_consent_and_mails_nobody(newsletter, mailchimp_zip):
    job = import_file(mailchimp_zip)
    assert (job.status, job.file_format, job.total_rows, job.processed_rows) == (ImportStatus.DONE, "mailchimp", 6, 6)
    assert (job.created_count, job.updated_count, job.skipped_count, job.invalid_count) == (6, 0, 0, 0)

    assert state_of("ada.lovelace@example.com") == (SubscriptionStatus.CONFIRMED, None)
    assert state_of("alan.turing@example.com") == (SubscriptionStatus.UNSUBSCRIBED, None)
    assert state_of("bounced.reader@example.com") == (SubscriptionStatus.UNSUBSCRIBED, utc("2023-06-01 00:00:00"))
    zoe = db.session.scalar(select(Subscriber).where(Subscriber.email == "Zoe.Angstrom@example.org"))
    assert zoe.full_name == "Zoë Ångström"

    ada = db.session.scalar(select(Subscriber).where(Subscriber.email == "ada.lovelace@example.com"))
    [subscription] = ada.subscriptions
    assert (subscription.requested_at, subscription.confirmed_at) == (
        utc("2023-01-15 10:22:31"), utc("2023-01-15 10:25:02"))
    events = db.session.execute(select(ConsentEvent.action, ConsentEvent.occurred_at, ConsentEvent.ip,
                                       ConsentEvent.form).where(ConsentEvent.subscriber_id == ada.id)
                                .order_by(ConsentEvent.id)).all()
    assert events == [(ConsentAction.IMPORTED_OPTIN, utc("2023-01-15 10:22:31"), "192.0.2.10", "import:mailchimp"),
                      (ConsentAction.IMPORTED_CONFIRM, utc("2023-01-15 10:25:02"), "192.0.2.10", "import:mailchimp")]
    alan = db.session.scalar(select(Subscriber).where(Subscriber.email == "alan.turing@example.com"))
    assert alan.subscriptions[0].unsubscribed_at == utc("2024-02-10 12:00:00")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_importing_the_same_export_again_changes_nothing(newsletter, mailchimp_zip):
    import_file(mailchimp_zip)
    before = snapshot()
    again = import_file(mailchimp_zip)
    assert (again.created_count, again.updated_count, again.skipped_count) == (0, 0, 6)
    assert snapshot() == before
    for csv_file in MAILCHIMP_FILES:  # and the three files on their own, likewise
        import_file(csv_file)
    assert snapshot() == before


def test_the_three_csv_files_import_like_the_zip(newsletter, mailchimp_zip, make_list):
    make_list("zipped")
    for csv_file in MAILCHIMP_FILES:
        assert import_file(csv_file).file_format == "mailchimp"
    import_file(mailchimp_zip, list_slug="zipped")
    statuses = db.session.execute(select(Subscription.list_id, Subscription.status)).all()
    by_list: dict[int, list] = {}
    for list_id, status in statuses:
        by_list.setdefault(list_id, []).append(status)
    [first, second] = by_list.values()
    assert sorted(first) == sorted(second) and len(first) == 6


def test_an_import_never_resubscribes_or_confirms_but_does_unsubscribe(newsletter, origin, mailchimp_zip):
    subscriptions.subscribe("ADA.LOVELACE@example.com", "", origin)  # pending here, subscribed in Mailchimp
    subscriptions.subscribe("alan.turing@example.com", "", origin)  # pending here, unsubscribed in Mailchimp
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    job = import_file(mailchimp_zip)
    assert (job.created_count, job.updated_count, job.skipped_count) == (4, 1, 1)
    assert state_of("ada.lovelace@example.com") == (SubscriptionStatus.PENDING, None)
    assert state_of("alan.turing@example.com")[0] == SubscriptionStatus.UNSUBSCRIBED
    # Addresses differing only in case are one subscriber.
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 6
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_erased_addresses_are_never_reimported(app, newsletter, mailchimp_zip):
    db.session.add(ErasureTombstone(address_hash=address_hash("Alan.Turing@example.com")))
    db.session.commit()
    job = import_file(mailchimp_zip)
    assert (job.created_count, job.skipped_count) == (5, 1)
    assert db.session.scalar(select(Subscriber).where(Subscriber.email.ilike("alan%"))) is None


def test_invalid_rows_go_to_the_error_csv_and_the_rest_imports(newsletter, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("email,name\nfine@example.com,Fine\nnot-an-address,Bad\n=cmd@@x,Evil\n"
                    "ok@example.com,Ok,extra\nFINE@example.com,Again\n", encoding="utf-8")
    report = imports.dry_run(str(path))
    assert (report.file_format, report.total_rows, report.valid_rows, report.invalid_rows) == ("csv", 5, 2, 3)
    assert [(e.line, e.email) for e in report.errors] == [(3, "not-an-address"), (4, "=cmd@@x"), (5, "")]
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0  # a dry run writes nothing

    job = import_file(path, actor=Actor("editor@example.com", staff_user_id=None))
    assert (job.created_count, job.skipped_count, job.invalid_count) == (1, 1, 3)
    lines = job.errors_csv.splitlines()
    assert lines[0] == "File,Line,Email Address,Problem"
    assert lines[1].startswith("members.csv,3,not-an-address,")
    assert lines[2].startswith("members.csv,4,'=cmd@@x,")  # formula-safe
    assert state_of("fine@example.com") == (SubscriptionStatus.PENDING, None)


def test_the_dry_run_counts_addresses_already_on_the_list(newsletter, make_list, tmp_path, monkeypatch):
    other = make_list("other")
    for email, mailing_list in (("On.List@example.com", newsletter), ("elsewhere@example.com", other)):
        db.session.add(Subscription(subscriber=Subscriber(email=email), mailing_list=mailing_list))
    db.session.commit()
    path = tmp_path / "members.csv"
    path.write_text("email\non.list@EXAMPLE.com\nelsewhere@example.com\nnew@example.com\nnew@example.com\n"
                    "fresh@example.com\nnot-an-address\n", encoding="utf-8")
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)  # counted batch by batch, as the import writes
    report = imports.dry_run(str(path), list_id=newsletter.id)
    assert (report.new_addresses, report.already_present, report.invalid_rows) == (3, 2, 1)
    assert (report.valid_rows, imports.dry_run(str(path)).new_addresses) == (5, None)  # no list: not counted


def test_the_dry_run_and_the_error_csv_name_the_file_as_its_sender_did(newsletter, tmp_path):
    path = tmp_path / "3f2a9c.upload"
    path.write_text("email\nnot-an-address\n", encoding="utf-8")
    report = imports.dry_run(str(path), name="Members <spring>.csv")
    assert report.parts == [("Members <spring>.csv", "csv", 1)] and report.errors[0].part == "Members <spring>.csv"
    job = import_file(path, filename="Members <spring>.csv")
    assert job.errors_csv.splitlines()[1].startswith("Members <spring>.csv,2,")


def test_column_samples_are_the_first_non_empty_values_of_each_column(tmp_path, mailchimp_zip):
    path = tmp_path / "crm.csv"
    path.write_text("Kontakt,Name,Leer,Notiz\n" + "".join(
        f"k{n}@example.de,{'' if n == 1 else f'Name {n}'},,{'x' * 200}\n" for n in range(6)), encoding="utf-8")
    samples = import_formats.column_samples(str(path), 4)
    assert samples[:3] == [["k0@example.de", "k1@example.de", "k2@example.de"], ["Name 0", "Name 2", "Name 3"], []]
    assert samples[3] == ["x" * 80] * 3
    assert import_formats.column_samples(str(mailchimp_zip), 2) == [[], []]


def test_listmonk_export_and_mapped_csv(newsletter, tmp_path):
    listmonk = tmp_path / "listmonk.csv"
    listmonk.write_text('uuid,email,name,attributes,status\n1,lm@example.com,Lis Monk,"{""city"": ""Oslo""}",enabled\n'
                        '2,blocked@example.com,Block,{},blocklisted\n', encoding="utf-8")
    assert import_file(listmonk).file_format == "listmonk"
    assert state_of("lm@example.com")[0] == SubscriptionStatus.PENDING
    assert state_of("blocked@example.com")[0] == SubscriptionStatus.UNSUBSCRIBED

    plain = tmp_path / "crm.csv"
    plain.write_text("Kontakt;x\n", encoding="utf-8")
    plain.write_text("Kontakt,Vorname,Nachname\nkarl@example.de,Karl,Marx\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        imports.create_job(str(plain), CLI)
    assert error.value.columns == ["Kontakt", "Vorname", "Nachname"]
    import_file(plain, column_map={"email": "Kontakt", "first_name": "Vorname", "last_name": "Nachname"})
    karl = db.session.scalar(select(Subscriber).where(Subscriber.email == "karl@example.de"))
    assert karl.full_name == "Karl Marx"


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        header = MAILCHIMP_FILES[0].read_text().splitlines()[0]
        archive.writestr("subscribed_members_export_x.csv", header + "\n" + "\n" * 300_000)


@pytest.mark.parametrize(("content", "message"), [
    ("Email Address;First Name;Last Name\nada@example.com;Ada;L\n", "separated by semicolons"),
    ("Name,Phone\nAda,123\n", "No email column"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00", "not UTF-8"),
    (b"email,name\nada@example.com,Ada\n\x00\x01\x02binary,junk\n", "binary data"),
    (b"email,name\nok@example.com,Ok\nbad@example.com,\xff\xfe\n", "not UTF-8"),
    ('email,name\nok@example.com,"unterminated\n', "not valid CSV"),
    (b"PK\x03\x04 this is not really a zip", "damaged"),
    ("", "empty"),
    ("bomb", "unpacks to more than"),
    ("x" * 3000, "larger than"),
])
def test_a_malformed_file_is_refused_whole(app, newsletter, tmp_path, content, message):
    app.config["IMPORT_MAX_BYTES"] = 2048
    path = tmp_path / "upload.csv"
    if content == "bomb":
        _zip_bomb(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        imports.create_job(str(path), CLI)
    assert message in error.value.message
    with pytest.raises(InvalidInput):
        imports.dry_run(str(path))
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_queued_job_runs_in_the_worker_reports_progress_and_is_audited(app, newsletter, tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("email\n" + "".join(f"r{n}@example.com\n" for n in range(2500)), encoding="utf-8")
    job_id, worker_job_id = import_steps.queue_import(str(path), Actor("editor@example.com"))
    assert Worker(app).run_once().jobs_run == 1
    db.session.rollback()
    job = imports.get_job(job_id)
    assert (job.status, job.total_rows, job.processed_rows, job.created_count) == (ImportStatus.DONE, 2500, 2500, 2500)
    worker_job = db.session.get(Job, worker_job_id)
    assert (worker_job.status, worker_job.progress_done, worker_job.progress_total, worker_job.result["created"]) == (
        JobStatus.SUCCEEDED, 2500, 2500, 2500)
    [event] = db.session.scalars(select(AuditEvent)).all()
    assert (event.actor, event.action, event.target, event.details["created"]) == (
        "editor@example.com", "subscribers.import", "many.csv", 2500)
    with pytest.raises(InvalidInput):
        imports.run_import(job_id)  # a job runs once


def test_uploads_are_capped_and_removed_after_import(app, newsletter, tmp_path):
    app.config["IMPORT_MAX_BYTES"] = 100
    with pytest.raises(InvalidInput):
        imports.save_upload(io.BytesIO(b"email\n" + b"a@example.com\n" * 20), "big.csv")
    assert list(imports.upload_dir().glob("*")) == []
    stored = imports.save_upload(io.BytesIO(b"email\nup@example.com\n"), "small.csv")
    job = import_file(stored, filename="small.csv")
    assert (job.filename, job.created_count) == ("small.csv", 1)
    assert not Path(stored).exists()


def test_imported_consent_comes_back_out_in_the_export(newsletter, mailchimp_zip):
    import_file(mailchimp_zip)
    exported = b"".join(export_subscribers(SubscriberFilters(), CLI)).decode()
    rows = {row["Email Address"]: row for row in csv.DictReader(io.StringIO(exported))}
    ada, alan, bounced = (rows["ada.lovelace@example.com"], rows["alan.turing@example.com"],
                          rows["bounced.reader@example.com"])
    assert (ada["First Name"], ada["Last Name"], ada["Status"]) == ("Ada", "Lovelace", "confirmed")
    assert (ada["OPTIN_TIME"], ada["OPTIN_IP"], ada["CONFIRM_TIME"], ada["CONFIRM_IP"]) == (
        "2023-01-15 10:22:31", "192.0.2.10", "2023-01-15 10:25:02", "192.0.2.10")
    assert (alan["Status"], alan["UNSUB_TIME"]) == ("unsubscribed", "2024-02-10 12:00:00")
    assert bounced["Status"] == "cleaned"


def test_imported_subscribers_page_through_the_console_list_each_once(newsletter, tmp_path):
    """One batch shares one creation time; stored as every other write stores it, the
    keyset cursor (created_at, id) moves past it instead of showing a page again."""
    from services.console.subscriber_admin import SubscriberFilter, search

    path = tmp_path / "members.csv"
    path.write_text("email,name\n" + "".join(f"reader{n}@example.com,Reader {n}\n" for n in range(7)),
                    encoding="utf-8")
    import_file(path)
    subscriptions.subscribe("signed-up@example.com", "", ConsentOrigin(form="hosted"))
    seen, cursor = [], None
    for _ in range(10):
        page = search(db.session, SubscriberFilter(), cursor, size=3)
        seen += [row.subscriber.email for row in page.items]
        if not (cursor := page.next_cursor):
            break
    assert sorted(seen) == sorted([f"reader{n}@example.com" for n in range(7)] + ["signed-up@example.com"])


def test_imported_cleaned_rows_land_on_the_suppression_list(newsletter, mailchimp_zip):
    from models import Suppression, SuppressionReason

    import_file(mailchimp_zip)
    listed = db.session.execute(select(Suppression.address, Suppression.reason, Suppression.created_by)).all()
    assert listed == [("bounced.reader@example.com", SuppressionReason.IMPORTED_CLEANED, "import")]
