"""staff sessions kept on the server, so signing out ends them

Each signed-in browser has a row (its random id stored as a hash); deleting the rows
ends the sessions, which replaces the per-account session version.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.Column('user_agent', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'],
                                name=op.f('fk_staff_sessions_staff_user_id_staff_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
        sa.UniqueConstraint('id_hash', name=op.f('uq_staff_sessions_id_hash')),
    )
    op.create_index(op.f('ix_staff_sessions_staff_user_id'), 'staff_sessions', ['staff_user_id'], unique=False)
    # Plain DROP/ADD COLUMN (SQLite 3.35+ has both): batch mode would rebuild the table.
    op.drop_column('staff_users', 'session_version')


def downgrade():
    op.add_column('staff_users', sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    op.drop_index(op.f('ix_staff_sessions_staff_user_id'), table_name='staff_sessions')
    op.drop_table('staff_sessions')
