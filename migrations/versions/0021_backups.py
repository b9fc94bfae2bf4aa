"""backups: a record of each scheduled backup taken (backup_runs)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'backup_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('file', sa.String(length=1000), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('size_bytes', sa.BigInteger(), nullable=True),
        sa.Column('rows', sa.BigInteger(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_runs')),
    )


def downgrade():
    op.drop_table('backup_runs')
