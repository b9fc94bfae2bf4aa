"""courses, cohorts, enrollments; consent events may name an enrollment

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'courses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=80), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('format', sa.Enum('online', 'in_person', name='courseformat', native_enum=False, length=20),
                  nullable=False),
        sa.Column('duration_weeks', sa.Integer(), nullable=False),
        sa.Column('fee_minor', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('contact_email', sa.String(length=320), nullable=False),
        sa.Column('is_published', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('fee_minor >= 0', name=op.f('ck_courses_fee_not_negative')),
        sa.CheckConstraint('duration_weeks > 0', name=op.f('ck_courses_duration_positive')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_courses')),
        sa.UniqueConstraint('slug', name=op.f('uq_courses_slug')),
    )
    op.create_table(
        'cohorts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=120), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('enrolment_opens_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('enrolment_closes_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=True),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('seats_taken', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('capacity IS NULL OR seats_taken <= capacity',
                           name=op.f('ck_cohorts_seats_within_capacity')),
        sa.CheckConstraint('seats_taken >= 0', name=op.f('ck_cohorts_seats_not_negative')),
        sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_cohorts_ends_after_start')),
        sa.CheckConstraint('enrolment_closes_at > enrolment_opens_at', name=op.f('ck_cohorts_window_not_empty')),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_cohorts_course_id_courses'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cohorts')),
    )
    op.create_index(op.f('ix_cohorts_course_id'), 'cohorts', ['course_id'], unique=False)
    op.create_table(
        'enrollments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cohort_id', sa.Integer(), nullable=False),
        sa.Column('full_name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('organisation', sa.String(length=200), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('status', sa.Enum('pending', 'confirmed', 'waitlisted', 'cancelled', name='enrollmentstatus',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('waitlist_position', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('optional_mail_stopped_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_enrollments_cohort_id_cohorts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollments')),
    )
    op.create_index('ix_enrollments_cohort_status', 'enrollments',
                    ['cohort_id', 'status', 'waitlist_position'], unique=False)
    # One enrolment per address and cohort, whatever the address's case.
    op.create_index('uq_enrollments_cohort_email_lower', 'enrollments',
                    ['cohort_id', sa.text('lower(email)')], unique=True)
    # SQLite rebuilds the table to add a foreign key; reflect only this table
    # (the subscribers' expression index cannot be reflected there).
    with op.batch_alter_table('consent_events', reflect_kwargs={'resolve_fks': False}) as batch_op:
        batch_op.add_column(sa.Column('enrollment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_consent_events_enrollment_id'), ['enrollment_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_consent_events_enrollment_id_enrollments'), 'enrollments',
                                    ['enrollment_id'], ['id'], ondelete='SET NULL')

def downgrade():
    with op.batch_alter_table('consent_events', reflect_kwargs={'resolve_fks': False}) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_consent_events_enrollment_id_enrollments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_consent_events_enrollment_id'))
        batch_op.drop_column('enrollment_id')
    op.drop_index('uq_enrollments_cohort_email_lower', table_name='enrollments')
    op.drop_index('ix_enrollments_cohort_status', table_name='enrollments')
    op.drop_table('enrollments')
    op.drop_index(op.f('ix_cohorts_course_id'), table_name='cohorts')
    op.drop_table('cohorts')
    op.drop_table('courses')
