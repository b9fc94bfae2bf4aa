"""enrolments found by address (privacy requests); staff session version (password changes)

The index serves a reader's privacy requests, which find their enrolments in every cohort.
The session version is raised when a staff password changes and signs older sessions out.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_enrollments_email_lower', 'enrollments', [sa.text('lower(email)')], unique=False)
    # A plain ADD COLUMN (no batch rebuild on SQLite, which would lose expression indexes).
    op.add_column('staff_users', sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    op.drop_column('staff_users', 'session_version')  # SQLite 3.35+ drops a column in place
    op.drop_index('ix_enrollments_email_lower', table_name='enrollments')
