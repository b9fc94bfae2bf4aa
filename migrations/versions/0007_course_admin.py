"""course admin: seats granted over capacity, payment recorded by staff

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: a batch copy of cohorts would cascade into enrollments.
def upgrade():
    op.add_column('cohorts', sa.Column('seats_over_capacity', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('enrollments', sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('enrollments', sa.Column('paid_by', sa.String(length=320), nullable=True))


def downgrade():
    op.drop_column('enrollments', 'paid_by')
    op.drop_column('enrollments', 'paid_at')
    op.drop_column('cohorts', 'seats_over_capacity')
