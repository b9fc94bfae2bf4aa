"""the outbox's per-address index compares addresses whatever their case

The opt-in mail throttle counts an address's mail by lower(recipient).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE/DROP INDEX: a batch rebuild on SQLite would lose expression indexes.
    op.create_index('ix_outbox_messages_recipient_lower', 'outbox_messages',
                    [sa.text('lower(recipient)'), 'category', 'created_at'])
    op.drop_index('ix_outbox_messages_recipient_category', table_name='outbox_messages')


def downgrade():
    op.create_index('ix_outbox_messages_recipient_category', 'outbox_messages',
                    ['recipient', 'category', 'created_at'])
    op.drop_index('ix_outbox_messages_recipient_lower', table_name='outbox_messages')
