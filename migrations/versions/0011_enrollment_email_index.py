"""enrolments found by address across cohorts (a reader's privacy requests)

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


def downgrade():
    op.drop_index('ix_enrollments_email_lower', table_name='enrollments')
