"""Backups: taken while sign-ups go on, they restore to a sound database whose counts are
the manifest's; restore refuses a database holding data (unless --force) and a file
altered or from a newer schema; the worker's daily backup is kept, pruned and shown."""

import json
import threading
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from extensions import db
from models import BackupRun, Base, ScheduledTask, Subscriber, Subscription
from models.base import utcnow
from services.data import scheduled_backups
from services.data.backup import BackupRefused, write_backup
from services.data.loading import LoadFailed, LoadRefused, holds_data
from services.data.restore import restore
from services.subscriptions import subscriptions
from services.worker import schedule
from tests.data.databases import app_on, integrity_problems, other_kind, table_counts


def sign_up(count: int, prefix: str, origin) -> None:
    for n in range(count):
        subscriptions.subscribe(f"{prefix}{n}@example.com", f"Reader {prefix}{n}", origin)


def manifest_of(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))


def test_every_table_of_the_models_is_in_the_backup(app, tmp_path):
    manifest = write_backup(db.engine, tmp_path / "all.zip").manifest
    assert [table["name"] for table in manifest["tables"]] == [table.name for table in Base.metadata.sorted_tables]
    assert manifest["schema_revision"] and manifest["created_at"] and len(manifest["sha256"]) == 64


@pytest.mark.parametrize("into", ["same", "other"])
def test_a_backup_taken_during_sign_ups_restores_whole_and_consistent(app, newsletter, origin, tmp_path,
                                                                      spare_database, into):
    sign_up(20, "before", origin)
    stop, failures, done = threading.Event(), [], []

    def keep_signing_up(thread: int) -> None:
        with app.app_context():
            n = 0
            while not stop.is_set() or n < 5:  # some after the backup too
                try:
                    subscriptions.subscribe(f"during{thread}-{n}@example.com", "Reader", origin)
                    done.append(1)
                except Exception as error:  # reported below; a thread's exception is otherwise lost
                    failures.append(error)
                n += 1
            db.session.remove()

    threads = [threading.Thread(target=keep_signing_up, args=(t,)) for t in range(3)]
    for thread in threads:
        thread.start()
    while len(done) < 10:
        threading.Event().wait(0.01)
    try:
        result = write_backup(db.engine, tmp_path / "during.zip")
        during = len(done)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    counts = {table["name"]: table["rows"] for table in result.manifest["tables"]}
    # Each sign-up writes its subscriber, subscription, consent event and mail together: a
    # snapshot shows all four of each, or none.
    assert 20 + 10 <= counts["subscribers"] <= 20 + during
    assert counts["subscriptions"] == counts["consent_events"] == counts["outbox_messages"] == counts["subscribers"]
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) > counts["subscribers"]

    with app_on(spare_database(db.engine.dialect.name if into == "same" else other_kind()), app):
        loaded = restore(str(result.path))
        assert loaded.counts == counts == table_counts()
        assert integrity_problems() == []
        emails = set(db.session.scalars(select(Subscriber.email)))
        assert {f"before{n}@example.com" for n in range(20)} <= emails


def test_restore_refuses_a_database_holding_data_unless_forced(app, newsletter, origin, tmp_path):
    sign_up(3, "kept", origin)
    path = write_backup(db.engine, tmp_path / "three.zip").path
    sign_up(2, "later", origin)
    db.session.remove()

    with pytest.raises(LoadRefused, match="not empty"):
        restore(str(path))
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 5

    runner = app.test_cli_runner()
    refused = runner.invoke(args=["data", "restore", str(path)])
    assert refused.exit_code == 1 and "not empty" in refused.output and "Traceback" not in refused.output

    forced = runner.invoke(args=["data", "restore", str(path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert sorted(db.session.scalars(select(Subscriber.email))) == [f"kept{n}@example.com" for n in range(3)]
    assert integrity_problems() == []


def test_restore_into_an_empty_database_through_the_command_line(app, newsletter, origin, tmp_path,
                                                                 spare_database):
    sign_up(4, "cli", origin)
    runner = app.test_cli_runner()
    taken = runner.invoke(args=["data", "backup", str(tmp_path / "cli.zip")])
    assert taken.exit_code == 0 and "to " in taken.output
    again = runner.invoke(args=["data", "backup", str(tmp_path / "cli.zip")])
    assert again.exit_code == 1 and "exists" in again.output  # a backup never overwrites another
    with app_on(spare_database(db.engine.dialect.name), app) as other:
        restored = other.test_cli_runner().invoke(args=["data", "restore", str(tmp_path / "cli.zip")])
        assert restored.exit_code == 0, restored.output
        assert db.session.scalar(select(func.count()).select_from(Subscription)) == 4


def rewritten(path, target, change) -> None:
    """A copy of the backup with change(name, bytes) -> bytes applied to each entry."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as copy:
        for item in source.infolist():
            copy.writestr(item.filename, change(item.filename, source.read(item.filename)))


def test_an_altered_backup_is_refused_and_leaves_the_database_empty(app, newsletter, origin, tmp_path,
                                                                    spare_database):
    sign_up(3, "reader", origin)
    path = write_backup(db.engine, tmp_path / "good.zip").path
    rewritten(path, tmp_path / "altered.zip", lambda name, data: data.replace(b"reader1@", b"attacker@")
              if name == "tables/subscribers.jsonl" else data)
    with app_on(spare_database(db.engine.dialect.name), app):
        with pytest.raises(LoadFailed, match="subscribers: checksum"):
            restore(str(tmp_path / "altered.zip"))
        assert not holds_data(table_counts())  # nothing but the list a fresh schema starts with
        restore(str(path))  # the failed restore left a database the good file restores into
        assert table_counts()["subscribers"] == 3


def test_a_backup_from_a_newer_schema_or_not_a_backup_is_refused(app, newsletter, tmp_path):
    path = write_backup(db.engine, tmp_path / "good.zip").path

    def newer(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        return json.dumps({**manifest, "schema_revision": "9999"}).encode()

    rewritten(path, tmp_path / "newer.zip", newer)
    with pytest.raises(LoadRefused, match="9999"):
        restore(str(tmp_path / "newer.zip"))
    (tmp_path / "notes.txt").write_text("not a backup")
    result = app.test_cli_runner().invoke(args=["data", "restore", str(tmp_path / "notes.txt")])
    assert result.exit_code == 1 and "not a Roster backup" in result.output


def run_the_backup_task() -> list[str]:
    db.session.execute(update(ScheduledTask).where(ScheduledTask.name == "backup")
                       .values(next_run_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    return schedule.run_due()


def test_the_worker_backs_up_daily_keeps_the_newest_and_shows_the_last(app, newsletter, origin, tmp_path,
                                                                       signed_in_client):
    app.config.update(BACKUP_DIR=str(tmp_path / "backups"), BACKUP_KEEP=2)
    sign_up(2, "daily", origin)
    schedule.run_due()  # the tasks' rows: the backup's first run is at BACKUP_HOUR
    assert db.session.get(ScheduledTask, "backup").next_run_at.hour == app.config["BACKUP_HOUR"]
    for _ in range(3):
        assert "backup" in run_the_backup_task()
    files = sorted((tmp_path / "backups").iterdir())
    runs = db.session.scalars(select(BackupRun).order_by(BackupRun.id)).all()
    assert [run.ok for run in runs] == [True, True, True]
    assert [path.name for path in files] == [run.file.rsplit("/", 1)[1] for run in runs[1:]]
    assert files[-1].stat().st_mode & 0o077 == 0  # every reader's address: the owner's alone
    assert runs[-1].size_bytes == files[-1].stat().st_size and runs[-1].rows >= 2 + 2 + 2 + 2

    health = signed_in_client.get("/healthz").get_json()
    assert health["backup"] == {"last": runs[-1].finished_at.isoformat(), "ok": True}
    page = signed_in_client.get("/admin/background").get_data(as_text=True)
    assert "succeeded" in page and files[-1].name in page


def test_a_failed_backup_shows_in_the_console_and_in_healthz(app, newsletter, tmp_path, signed_in_client):
    (tmp_path / "a-file").write_text("")
    app.config["BACKUP_DIR"] = str(tmp_path / "a-file" / "backups")  # cannot be made
    schedule.run_due()
    assert "backup" in run_the_backup_task()
    run = scheduled_backups.last_run(db.session)
    assert run.ok is False and "NotADirectoryError" in run.error
    assert db.session.get(ScheduledTask, "backup").last_error.startswith("NotADirectoryError")

    response = signed_in_client.get("/healthz")
    assert response.status_code == 200  # the database is up: the site serves; monitoring reads "ok"
    assert response.get_json()["backup"]["ok"] is False
    page = signed_in_client.get("/admin/background").get_data(as_text=True)
    assert "failed" in page and "NotADirectoryError" in page


def test_a_backup_refuses_a_file_it_cannot_write(app, tmp_path):
    with pytest.raises(BackupRefused):
        write_backup(db.engine, tmp_path / "missing-directory" / "x.zip")
