"""API tokens for the staff JSON API; UTM parameters of a subscription

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('scope', sa.Enum('read', 'read-write', name='apitokenscope', native_enum=False, length=20),
                  nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'],
                                name=op.f('fk_api_tokens_staff_user_id_staff_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    )
    op.create_index(op.f('ix_api_tokens_staff_user_id'), 'api_tokens', ['staff_user_id'], unique=False)
    # Plain ADD/DROP COLUMN (SQLite 3.35+ has both): batch mode would rebuild the table.
    op.add_column('subscriptions', sa.Column('utm', sa.JSON(), nullable=True))


def downgrade():
    op.drop_column('subscriptions', 'utm')
    op.drop_index(op.f('ix_api_tokens_staff_user_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
