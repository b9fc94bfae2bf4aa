"""SQLite: a trigram index of subscriber names (FTS5) for the staff search

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# As models/name_search.py made it on this date (PostgreSQL has pg_trgm since 0010).
INDEX = 'subscriber_name_search'
TRIGGERS = ('subscribers_name_search_insert', 'subscribers_name_search_update', 'subscribers_name_search_delete')


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    if not _sqlite():
        return
    op.execute(f"CREATE VIRTUAL TABLE {INDEX} USING fts5("
               "full_name, content='subscribers', content_rowid='id', tokenize='trigram')")
    op.execute(f"CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT ON subscribers BEGIN "
               f"INSERT INTO {INDEX} (rowid, full_name) VALUES (new.id, new.full_name); END")
    op.execute(f"CREATE TRIGGER {TRIGGERS[1]} AFTER UPDATE OF full_name ON subscribers "
               "WHEN old.full_name IS NOT new.full_name BEGIN "
               f"INSERT INTO {INDEX} ({INDEX}, rowid, full_name) VALUES ('delete', old.id, old.full_name); "
               f"INSERT INTO {INDEX} (rowid, full_name) VALUES (new.id, new.full_name); END")
    op.execute(f"CREATE TRIGGER {TRIGGERS[2]} AFTER DELETE ON subscribers BEGIN "
               f"INSERT INTO {INDEX} ({INDEX}, rowid, full_name) VALUES ('delete', old.id, old.full_name); END")
    # The names already there (about 20 s a million).
    op.execute(f"INSERT INTO {INDEX} ({INDEX}) VALUES ('rebuild')")


def downgrade():
    if not _sqlite():
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute(f"DROP TABLE {INDEX}")
