"""Migrations: one head, and upgrading an empty database gives the models' schema."""

import warnings

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from extensions import db, migrate
from models import Base
from models.name_search import made_by_models, names_containing


def test_there_is_a_single_migration_head(migration_app):
    config = migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def differences_from_the_models() -> list:
    """What `flask db check` compares, as a list; it also runs `flask db check` itself."""
    with warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; the test below checks that one.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "include_name": made_by_models})
            differences = compare_metadata(context, Base.metadata)
        if not differences:
            command.check(migrate.get_config())
    return differences


def test_upgrade_from_empty_gives_the_models_schema(migration_app):
    upgrade()
    assert differences_from_the_models() == []


def test_migrated_schema_keeps_one_subscriber_per_address_whatever_its_case(migration_app):
    upgrade()
    insert = text("INSERT INTO subscribers (email, full_name, created_at) VALUES (:email, '', CURRENT_TIMESTAMP)")
    with db.engine.connect() as connection:
        connection.execute(insert, {"email": "Reader@example.com"})
        connection.execute(insert, {"email": "other@example.com"})
        with pytest.raises(IntegrityError):
            connection.execute(insert, {"email": "reader@EXAMPLE.com"})


def test_downgrade_to_base_and_up_again(migration_app):
    upgrade()
    command.downgrade(migrate.get_config(), "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}  # every table dropped
    upgrade()
    assert differences_from_the_models() == []


def test_migrated_schema_keeps_one_enrollment_per_address_and_cohort_and_caps_seats(migration_app):
    upgrade()
    with db.engine.connect() as connection:
        connection.execute(text(
            "INSERT INTO courses (id, slug, title, summary, description, format, duration_weeks, fee_minor, "
            "currency, contact_email, is_published, created_at) VALUES (1, 'c', 'C', '', '', 'online', 6, 0, "
            "'EUR', 'c@example.org', true, CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO cohorts (id, course_id, label, starts_on, ends_on, enrolment_opens_at, "
            "enrolment_closes_at, capacity, timezone, seats_taken, created_at) VALUES (1, 1, 'L', '2030-01-07', "
            "'2030-02-15', '2029-12-01 00:00:00+00:00', '2030-01-06 00:00:00+00:00', 1, 'UTC', 1, "
            "CURRENT_TIMESTAMP)"))
        insert = text("INSERT INTO enrollments (cohort_id, full_name, email, status, created_at, requested_at, "
                      "status_changed_at) VALUES (1, 'A', :email, 'pending', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                      "CURRENT_TIMESTAMP)")
        connection.execute(insert, {"email": "Reader@example.com"})
        connection.commit()
        with pytest.raises(IntegrityError):
            connection.execute(insert, {"email": "reader@EXAMPLE.com"})
        connection.rollback()
    with db.engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(text("UPDATE cohorts SET seats_taken = 2 WHERE id = 1"))


def upgrade_to_with_a_subscriber(revision: str, email: str, full_name: str = "") -> None:
    """The schema as of `revision`, holding subscriber 1, for a later upgrade to meet."""
    upgrade(revision=revision)
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO subscribers (id, email, full_name, created_at) "
                                "VALUES (1, :email, :full_name, CURRENT_TIMESTAMP)"),
                           {"email": email, "full_name": full_name})


def test_upgrade_turns_stored_json_null_campaigns_into_sql_null(migration_app):
    upgrade_to_with_a_subscriber("0011", "a@example.com")
    with db.engine.begin() as connection:
        for list_id, utm in ((1, "null"), (2, '{"utm_source": "x"}')):
            connection.execute(text(
                "INSERT INTO mailing_lists (id, slug, name, description, is_public, is_default, welcome_text, "
                "created_at) VALUES (:list_id, :slug, 'L', '', true, false, '', CURRENT_TIMESTAMP)"),
                {"list_id": list_id, "slug": f"list-{list_id}"})
            connection.execute(text(
                "INSERT INTO subscriptions (subscriber_id, list_id, status, created_at, status_changed_at, "
                "requested_at, utm) VALUES (1, :list_id, 'pending', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP, :utm)"), {"list_id": list_id, "utm": utm})
    upgrade()
    with db.engine.connect() as connection:
        with_campaign = connection.execute(text("SELECT list_id FROM subscriptions WHERE utm IS NOT NULL")).all()
    assert with_campaign == [(2,)]


def name_index_schema(connection) -> list[tuple[str, str]]:
    """SQLite's trigram index of names and its triggers, as the database holds them."""
    return connection.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE name LIKE 'subscriber%name_search%' AND sql IS NOT NULL "
        "ORDER BY name")).all()


def test_sqlite_name_index_is_made_alike_by_the_migration_and_the_models(migration_app, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the trigram index of names is SQLite's (PostgreSQL has pg_trgm since 0010)")
    upgrade()
    with db.engine.connect() as connection:
        migrated = name_index_schema(connection)
    made = create_engine(f"sqlite:///{tmp_path / 'made.sqlite3'}")
    Base.metadata.create_all(made)
    with made.connect() as connection:
        assert name_index_schema(connection) == migrated
    made.dispose()
    assert {"subscriber_name_search", "subscribers_name_search_delete", "subscribers_name_search_insert",
            "subscribers_name_search_update"} <= {name for name, _ in migrated}


def test_upgrade_indexes_the_names_already_there(migration_app):
    upgrade_to_with_a_subscriber("0012", "ada@example.com", "Ada Lovelace")
    upgrade()
    from services.console.subscriber_admin import SubscriberFilter, search

    assert [row.subscriber.email for row in search(db.session, SubscriberFilter(query="lovelace")).items] == [
        "ada@example.com"]
    if db.engine.dialect.name == "sqlite":
        assert db.session.scalars(names_containing("lovelace")).all() == [1]
    db.session.remove()


def test_upgrade_gives_every_row_a_link_key_of_its_own(migration_app):
    upgrade_to_with_a_subscriber("0013", "a@example.com")
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO subscribers (id, email, full_name, created_at) "
                                "VALUES (2, 'b@example.com', '', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO mailing_lists (id, slug, name, description, is_public, "
                                "is_default, welcome_text, created_at) "
                                "VALUES (1, 'l', 'L', '', true, true, '', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO subscriptions (subscriber_id, list_id, status, created_at, "
                                "status_changed_at, requested_at) SELECT id, 1, 'pending', CURRENT_TIMESTAMP, "
                                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM subscribers"))
    upgrade()
    with db.engine.connect() as connection:
        keys = [key for table in ("subscribers", "subscriptions")
                for key in connection.execute(text(f"SELECT link_key FROM {table}")).scalars()]  # noqa: S608
    assert len(set(keys)) == 4 and all(len(key) == 16 for key in keys)
