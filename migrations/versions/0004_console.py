"""staff console: list welcome text, welcome sent time, paging indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: SQLite (3.35+) adds and drops these columns in
# place, where a batch copy would drop mailing_lists and cascade into subscriptions.
def upgrade():
    op.add_column('mailing_lists', sa.Column('welcome_text', sa.Text(), nullable=False, server_default=''))
    op.add_column('subscriptions', sa.Column('welcomed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_subscriptions_created_at', 'subscriptions', ['created_at'], unique=False)
    op.create_index('ix_subscribers_created_at_id', 'subscribers', ['created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_subscribers_created_at_id', table_name='subscribers')
    op.drop_index('ix_subscriptions_created_at', table_name='subscriptions')
    op.drop_column('subscriptions', 'welcomed_at')
    op.drop_column('mailing_lists', 'welcome_text')
