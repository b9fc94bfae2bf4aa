"""publication settings: the publisher's name, site, logo, colour, sender and postal address

And each list's former Mailchimp audience (`u` and `id`), which Mailchimp's own paths pick.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'publication_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('site_url', sa.String(length=2000), nullable=False),
        sa.Column('sender_name', sa.String(length=200), nullable=False),
        sa.Column('postal_address', sa.Text(), nullable=False),
        sa.Column('accent_colour', sa.String(length=7), nullable=False),
        sa.Column('logo', sa.LargeBinary(), nullable=True),
        sa.Column('logo_content_type', sa.String(length=40), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_publication_settings_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_settings')),
    )
    # Plain ADD COLUMN and CREATE INDEX: a batch rebuild on SQLite would lose expression indexes.
    op.add_column('mailing_lists', sa.Column('mailchimp_account_id', sa.String(length=40), nullable=True))
    op.add_column('mailing_lists', sa.Column('mailchimp_audience_id', sa.String(length=40), nullable=True))
    op.create_index('uq_mailing_lists_mailchimp_audience_id', 'mailing_lists', ['mailchimp_audience_id'],
                    unique=True)


def downgrade():
    op.drop_index('uq_mailing_lists_mailchimp_audience_id', table_name='mailing_lists')
    op.drop_column('mailing_lists', 'mailchimp_audience_id')
    op.drop_column('mailing_lists', 'mailchimp_account_id')
    op.drop_table('publication_settings')
