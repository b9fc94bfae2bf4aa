"""Helpers for tests that load one database from another: an app on a second database,
and the integrity checks a restored or moved database must pass."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import text

from app import create_app
from extensions import db
from models import Base


@contextmanager
def app_on(url: str, like: Flask) -> Iterator[Flask]:
    """The app on another database, with `like`'s mail settings, its context pushed."""
    other = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url,
                        **{key: like.config[key] for key in ("MAIL_SERVER", "MAIL_PORT", "MAIL_TIMEOUT")}})
    with other.app_context():
        yield other
        db.session.remove()
        db.engine.dispose()


def integrity_problems() -> list[str]:
    """SQLite's own check, then every foreign key of the models checked row by row (a
    load that skipped the database's checks would show here on either database)."""
    problems = []
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            problems += [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check") if row[0] != "ok"]
            problems += [f"foreign key: {row}" for row in connection.exec_driver_sql("PRAGMA foreign_key_check")]
        for table in Base.metadata.sorted_tables:
            for key in table.foreign_keys:
                orphans = connection.execute(text(
                    f"SELECT count(*) FROM {table.name} child WHERE child.{key.parent.name} IS NOT NULL AND NOT EXISTS "  # noqa: S608
                    f"(SELECT 1 FROM {key.column.table.name} parent WHERE parent.{key.column.name} = "
                    f"child.{key.parent.name})")).scalar_one()
                if orphans:
                    problems.append(f"{table.name}.{key.parent.name}: {orphans} rows refer to nothing")
    return problems


def table_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {table.name: connection.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one()  # noqa: S608
                for table in Base.metadata.sorted_tables}


def other_kind() -> str:
    return "postgresql" if db.engine.dialect.name == "sqlite" else "sqlite"
