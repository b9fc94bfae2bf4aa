"""staff pages at scale: cached dashboard aggregates, search and filter indexes

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    op.create_table(
        'cached_aggregates',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_cached_aggregates')),
    )
    op.drop_index('ix_subscribers_created_at_id', table_name='subscribers')
    op.create_index('ix_subscribers_page_order', 'subscribers',
                    ['created_at', 'id', 'full_name', 'email'], unique=False)
    op.create_index('ix_subscriptions_source_status', 'subscriptions',
                    ['source_url', 'status', 'subscriber_id'], unique=False)
    if _postgresql():
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index('ix_subscribers_email_pattern', 'subscribers', [sa.text('lower(email) text_pattern_ops')])
        op.create_index('ix_subscribers_full_name_trgm', 'subscribers', [sa.text('lower(full_name) gin_trgm_ops')],
                        postgresql_using='gin')


def downgrade():
    if _postgresql():
        # The extension stays: other schemas in the database may use it.
        op.drop_index('ix_subscribers_full_name_trgm', table_name='subscribers')
        op.drop_index('ix_subscribers_email_pattern', table_name='subscribers')
    op.drop_index('ix_subscriptions_source_status', table_name='subscriptions')
    op.drop_index('ix_subscribers_page_order', table_name='subscribers')
    op.create_index('ix_subscribers_created_at_id', 'subscribers', ['created_at', 'id'], unique=False)
    op.drop_table('cached_aggregates')
