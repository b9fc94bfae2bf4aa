"""CLI commands through Flask's CLI runner."""

from pathlib import Path

from sqlalchemy import func, select

from extensions import db
from models import MailingList, OutboxStatus
from services.subscriptions import subscriptions
from tests.support import outbox_rows


def test_demo_seed_creates_the_default_list_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    second = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0 and "International Relations Updates" in first.output
    assert second.exit_code == 0 and "already present" in second.output
    lists = db.session.scalars(select(MailingList)).all()
    assert [(m.name, m.is_default, m.is_public) for m in lists] == [
        ("International Relations Updates", True, True)]


def test_outbox_work_once_drains_and_exits(app, newsletter, origin, smtp_sink):
    subscriptions.subscribe("cli@example.com", "", origin)
    result = app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert smtp_sink.wait_for(1)[0]["To"] == "cli@example.com"
    assert [row.status for row in outbox_rows()] == [OutboxStatus.SENT]


def test_console_backend_prints_the_whole_mail(app, newsletter, origin):
    app.config["MAIL_BACKEND"] = "console"
    subscriptions.subscribe("console@example.com", "Con Sole", origin)
    printed = app.test_cli_runner().invoke(args=["outbox", "work", "--once"]).output
    assert "To: Con Sole <console@example.com>" in printed
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in printed
    assert "/confirm/" in printed
    assert db.session.scalar(select(func.count()).select_from(MailingList)) == 1


def test_file_backend_writes_eml_files(app, newsletter, origin, tmp_path):
    app.config.update(MAIL_BACKEND="file", MAIL_FILE_DIR=str(tmp_path))
    subscriptions.subscribe("file@example.com", "", origin)
    app.test_cli_runner().invoke(args=["outbox", "work", "--once"])
    [eml] = tmp_path.glob("*.eml")
    assert b"To: file@example.com" in eml.read_bytes()


def test_subscribers_export_and_import_round_trip(app, newsletter, origin, tmp_path):
    subscriptions.subscribe("=cmd@example.com", "Ada Lovelace", origin)
    runner = app.test_cli_runner()
    output = tmp_path / "out.csv"
    result = runner.invoke(args=["subscribers", "export", "--list", "updates", "--status", "pending",
                                 "--output", str(output), "--bom"])
    assert result.exit_code == 0, result.output
    data = output.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfEmail Address,") and b"'=cmd@example.com,Ada,Lovelace" in data
    to_stdout = runner.invoke(args=["subscribers", "export", "--status", "confirmed"])
    assert to_stdout.exit_code == 0 and to_stdout.output.count("\n") == 1  # the header only
    bad = runner.invoke(args=["subscribers", "export", "--list", "missing"])
    assert bad.exit_code != 0 and "no list 'missing'" in bad.output

    fixtures = Path(__file__).parent / "fixtures" / "mailchimp"
    [subscribed] = fixtures.glob("subscribed_*.csv")
    dry = runner.invoke(args=["subscribers", "import", str(subscribed), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "3 rows: 3 valid (confirmed 3), 0 invalid; nothing was written" in dry.output
    done = runner.invoke(args=["subscribers", "import", str(subscribed), "--list", "updates"])
    assert done.exit_code == 0, done.output
    assert "imported 3 rows (mailchimp): created 3, updated 0, skipped 0, invalid 0" in done.output
    mapped = tmp_path / "crm.csv"
    mapped.write_text("Kontakt,Name\nkarl@example.de,Karl\nnope,X\n", encoding="utf-8")
    unmapped = runner.invoke(args=["subscribers", "import", str(mapped)])
    assert unmapped.exit_code != 0 and "columns: Kontakt, Name" in unmapped.output
    errors = tmp_path / "errors.csv"
    result = runner.invoke(args=["subscribers", "import", str(mapped), "--map", "email=Kontakt,full_name=Name",
                                 "--errors", str(errors)])
    assert "created 1, updated 0, skipped 0, invalid 1" in result.output
    assert errors.read_text().splitlines()[1].startswith("crm.csv,3,nope,")
