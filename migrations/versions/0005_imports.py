"""imports: import jobs, address suppression, keyed imported consent

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# consent_events.action is a VARCHAR(40) without a CHECK, so its new values need no DDL.
IMPORTED_ACTIONS = "action IN ('imported_optin', 'imported_confirm', 'imported_unsubscribe')"


def upgrade():
    # Plain ADD/DROP COLUMN: a batch rebuild on SQLite would lose the lower(email) index.
    op.add_column('subscribers', sa.Column('suppressed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('subscribers', sa.Column('suppression_reason', sa.String(length=40), nullable=True))
    op.create_index('uq_consent_events_imported', 'consent_events',
                    ['subscriber_id', 'list_id', 'action', 'occurred_at'], unique=True,
                    sqlite_where=sa.text(IMPORTED_ACTIONS), postgresql_where=sa.text(IMPORTED_ACTIONS))
    op.create_table(
        'import_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=320), nullable=False),
        sa.Column('list_id', sa.Integer(), nullable=True),
        sa.Column('source_path', sa.String(length=1000), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('file_format', sa.String(length=40), nullable=False),
        sa.Column('column_map', sa.JSON(), nullable=False),
        sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='importstatus',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('total_rows', sa.Integer(), nullable=False),
        sa.Column('processed_rows', sa.Integer(), nullable=False),
        sa.Column('created_count', sa.Integer(), nullable=False),
        sa.Column('updated_count', sa.Integer(), nullable=False),
        sa.Column('skipped_count', sa.Integer(), nullable=False),
        sa.Column('invalid_count', sa.Integer(), nullable=False),
        sa.Column('errors_csv', sa.Text(), nullable=False),
        sa.Column('failure', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['list_id'], ['mailing_lists.id'],
                                name=op.f('fk_import_jobs_list_id_mailing_lists'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'],
                                name=op.f('fk_import_jobs_staff_user_id_staff_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs')),
    )


def downgrade():
    op.drop_table('import_jobs')
    op.drop_index('uq_consent_events_imported', table_name='consent_events')
    op.execute(f"DELETE FROM consent_events WHERE {IMPORTED_ACTIONS}")
    op.drop_column('subscribers', 'suppression_reason')
    op.drop_column('subscribers', 'suppressed_at')
