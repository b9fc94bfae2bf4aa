"""CLI commands through Flask's CLI runner."""

from sqlalchemy import func, select

from extensions import db
from models import MailingList, OutboxStatus
from services import subscriptions
from tests.conftest import outbox_rows


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
