"""Bad input gets a 4xx, never a 500: JSON nested without end, and import files with
a header too wide or too long, or a value too long."""

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app import create_app
from extensions import db
from models import ImportJob, Subscriber
from services.core.audit import CLI
from services.core.errors import InvalidInput
from services.data import imports
from tests.data.test_admin_data import analysed, upload
from tests.support import ARTICLE_ORIGIN, ARTICLE_URL

LEVELS = 100_000
NESTED = {
    "arrays": "[" * LEVELS + "]" * LEVELS,
    "objects": '{"a":' * LEVELS + "1" + "}" * LEVELS,
}


def count(model) -> int:
    db.session.rollback()  # another app wrote it: look past this session's snapshot
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def limited_client(app, embed_origins):
    """With rate limits on, whose per-address key reads the body before the view does."""
    return create_app({**app.config, "APP_ENV": "testing", "RATELIMIT_ENABLED": True}).test_client()


@pytest.mark.parametrize("shape", NESTED)
def test_deeply_nested_json_to_the_api_is_a_400_problem(client, limited_client, newsletter, embed_origins, shape):
    for test_client in (client, limited_client):
        response = test_client.post("/api/v1/subscriptions", data=NESTED[shape], content_type="application/json",
                                    headers={"Origin": ARTICLE_ORIGIN})
        assert response.status_code == 400 and response.mimetype == "application/problem+json"
        assert "deeper than 32 levels" in response.json["detail"]
    assert count(Subscriber) == 0


@pytest.mark.parametrize("shape", NESTED)
def test_deeply_nested_json_to_the_embed_post_is_a_400(client, limited_client, newsletter, embed_origins, shape):
    for test_client in (client, limited_client):
        response = test_client.post("/embed/subscribe", data=NESTED[shape], content_type="application/json",
                                    headers={"Origin": ARTICLE_ORIGIN, "Referer": ARTICLE_URL})
        assert response.status_code == 400
    assert count(Subscriber) == 0
    # The form-encoded post it takes is untouched.
    fine = limited_client.post("/embed/subscribe", data={"email": "ada@example.com", "full_name": "[[[[Ada"},
                               headers={"Origin": ARTICLE_ORIGIN, "Referer": ARTICLE_URL})
    assert fine.status_code == 200 and count(Subscriber) == 1


def test_brackets_inside_strings_are_not_nesting(client, newsletter, embed_origins):
    name = '[{"' * 40 + '\\"]'
    response = client.post("/api/v1/subscriptions", json={"email": "ada@example.com", "full_name": name[:100]},
                           headers={"Origin": ARTICLE_ORIGIN})
    assert response.status_code == 202


def test_nesting_just_within_the_limit_is_read(client, newsletter, embed_origins):
    within = client.post("/api/v1/subscriptions", data="[" * 32 + "]" * 32, content_type="application/json",
                         headers={"Origin": ARTICLE_ORIGIN})
    assert within.status_code == 422 and within.json["errors"][0]["message"] == "Send a JSON object."
    beyond = client.post("/api/v1/subscriptions", data="[" * 33 + "]" * 33, content_type="application/json",
                         headers={"Origin": ARTICLE_ORIGIN})
    assert beyond.status_code == 400


REFUSED_FILES = [
    (",".join(["Email Address", *(f"c{n}" for n in range(100_000))]) + "\nada@example.com\n",
     "line 1 is longer than 65,536 characters"),
    ("Email Address" + ",c" * 30_000 + "\nada@example.com\n", "has 30,001 columns; an import can have at most 200"),
    ("Email Address," + "x" * 70_000 + "\nada@example.com,1\n", "line 1 is longer than 65,536 characters"),
    ("Email Address,Note\nada@example.com," + "x" * 40_000 + "\n", "line 2 has a value longer than 32,768 characters"),
]


@pytest.mark.parametrize(("content", "message"), REFUSED_FILES)
def test_an_import_too_wide_or_too_long_is_refused_by_the_service_and_the_cli(app, newsletter, tmp_path,
                                                                              content, message):
    path = tmp_path / "members.csv"
    path.write_text(content, encoding="utf-8")
    for check in (imports.dry_run, lambda path: imports.create_job(path, CLI)):
        with pytest.raises(InvalidInput) as refused:
            check(str(path))
        assert message in refused.value.message and refused.value.field == "file"
    result = CliRunner().invoke(app.cli, ["subscribers", "import", str(path)])
    assert result.exit_code != 0 and message in result.output
    assert count(Subscriber) == 0 and count(ImportJob) == 0


@pytest.mark.parametrize(("content", "message"), REFUSED_FILES)
def test_the_console_refuses_an_import_too_wide_or_too_long_and_keeps_nothing(app, signed_in_client, newsletter,
                                                                              content, message):
    job_url, page = analysed(app, signed_in_client, upload(signed_in_client, content.encode()))
    assert "The file was not imported" in page and message in page
    assert "Start import" not in page and len(page) < 100_000  # the refusal, not a page of columns
    assert count(Subscriber) == 0
    assert db.session.get(ImportJob, int(job_url.rsplit("/", 1)[1])).status == "refused"
    assert list(imports.upload_dir().glob("*")) == []  # the refused file is not kept


def test_an_import_at_the_limits_is_read(app, newsletter, tmp_path):
    path = tmp_path / "members.csv"
    columns = ["Email Address", *(f"c{n}" for n in range(199))]
    path.write_text(",".join(columns) + "\nada@example.com," + ",".join(["y" * 100] * 198) + "," + "x" * 32_768
                    + "\n", encoding="utf-8")
    assert imports.dry_run(str(path)).valid_rows == 1
