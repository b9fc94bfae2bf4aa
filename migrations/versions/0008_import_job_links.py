"""console data: subscriptions remember the import job that created them; opt-in requests per job

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

"""
import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


FK_NAME = 'fk_subscriptions_import_job_id_import_jobs'


# SQLite cannot add a constraint to a table, so batch mode copies subscriptions there
# (nothing references subscriptions, so the copy cascades nowhere); PostgreSQL alters.
# Reflecting subscriptions also reads subscribers, whose lower(email) index SQLite cannot
# reflect; batch mode only reads that table, so its warning is beside the point.
@contextmanager
def _subscriptions_batch():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table('subscriptions') as batch_op:
            yield batch_op


def upgrade():
    op.add_column('import_jobs', sa.Column('opt_in_requested_at', sa.DateTime(timezone=True), nullable=True))
    with _subscriptions_batch() as batch_op:
        batch_op.add_column(sa.Column('import_job_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(FK_NAME, 'import_jobs', ['import_job_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_subscriptions_import_job_id', ['import_job_id'])


def downgrade():
    with _subscriptions_batch() as batch_op:
        batch_op.drop_index('ix_subscriptions_import_job_id')
        batch_op.drop_constraint(FK_NAME, type_='foreignkey')
        batch_op.drop_column('import_job_id')
    op.drop_column('import_jobs', 'opt_in_requested_at')
