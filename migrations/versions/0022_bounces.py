"""bounces and complaints: the suppression list and each address's bounce history

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'suppressions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=320), nullable=False),
        sa.Column('reason', sa.Enum('hard_bounce', 'soft_bounces', 'complaint', 'staff', 'imported_cleaned',
                                    name='suppressionreason', native_enum=False, length=20), nullable=False),
        sa.Column('detail', sa.String(length=1000), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressions')),
        sa.UniqueConstraint('address', name=op.f('uq_suppressions_address')),
    )
    op.create_table(
        'bounce_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=320), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.Enum('hard', 'soft', 'complaint', name='bouncekind', native_enum=False, length=20),
                  nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=1000), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=True),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'],
                                name=op.f('fk_bounce_events_subscriber_id_subscribers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bounce_events')),
    )
    op.create_index('ix_bounce_events_address_occurred_at', 'bounce_events', ['address', 'occurred_at'])
    op.create_index('ix_bounce_events_occurred_at', 'bounce_events', ['occurred_at'])
    op.create_index('ix_bounce_events_subscriber_id', 'bounce_events', ['subscriber_id'])
    # Subscribers already suppressed (imported "cleaned" rows) join the list.
    op.execute(
        "INSERT INTO suppressions (address, reason, detail, created_at, created_by) "
        "SELECT lower(email), 'imported_cleaned', coalesce(suppression_reason, ''), suppressed_at, 'import' "
        "FROM subscribers WHERE suppressed_at IS NOT NULL"
    )


def downgrade():
    op.drop_index('ix_bounce_events_subscriber_id', table_name='bounce_events')
    op.drop_index('ix_bounce_events_occurred_at', table_name='bounce_events')
    op.drop_index('ix_bounce_events_address_occurred_at', table_name='bounce_events')
    op.drop_table('bounce_events')
    op.drop_table('suppressions')
