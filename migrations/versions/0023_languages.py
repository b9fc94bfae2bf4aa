"""languages: the language a reader signed up in, and each list's language

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: a batch rebuild on SQLite would lose expression indexes.
    op.add_column('mailing_lists', sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
    op.add_column('subscriptions', sa.Column('language', sa.String(length=8), nullable=True))
    op.add_column('enrollments', sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    op.drop_column('enrollments', 'language')
    op.drop_column('subscriptions', 'language')
    op.drop_column('mailing_lists', 'language')
