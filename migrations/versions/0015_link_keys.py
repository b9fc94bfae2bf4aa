"""per-row link keys, so a mailed link acts only on the row it was issued for

Mailed links named bare row ids, and ids come round again (SQLite reuses the highest
after a delete, a restored backup reuses any). Each subscriber, subscription and
enrolment gets a random key that its links carry beside the id.

The column is added NOT NULL with an empty default, which SQLite can do in place (a
rebuild of subscribers would lose its expression index and the name-search triggers),
and every row already there is given its own random key.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

TABLES = ('subscribers', 'subscriptions', 'enrollments')
# 16 characters of a random value, drawn again for each row.
RANDOM_KEY = {
    'sqlite': "lower(hex(randomblob(8)))",
    'postgresql': "substr(md5(gen_random_uuid()::text), 1, 16)",
}


def upgrade():
    random_key = RANDOM_KEY[op.get_bind().dialect.name]
    for table in TABLES:
        op.add_column(table, sa.Column('link_key', sa.String(16), nullable=False, server_default=''))
        op.execute(f"UPDATE {table} SET link_key = {random_key}")


def downgrade():
    for table in TABLES:
        op.drop_column(table, 'link_key')  # SQLite 3.35+ drops a column in place
