"""newsletters: campaigns and their recipients

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05

"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'campaigns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('list_id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=120), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('preheader', sa.String(length=300), nullable=False),
        sa.Column('body_markdown', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled',
                                    name='campaignstatus', native_enum=False, length=20), nullable=False),
        sa.Column('send_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('recipients_count', sa.Integer(), nullable=False),
        sa.Column('sent_count', sa.Integer(), nullable=False),
        sa.Column('failed_count', sa.Integer(), nullable=False),
        sa.Column('skipped_count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['list_id'], ['mailing_lists.id'], name=op.f('fk_campaigns_list_id_mailing_lists'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
        sa.UniqueConstraint('list_id', 'slug', name=op.f('uq_campaigns_list_id')),
    )
    op.create_index('ix_campaigns_status_send_at', 'campaigns', ['status', 'send_at'], unique=False)
    op.create_table(
        'campaign_recipients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'failed', 'skipped', name='recipientstatus',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_campaign_recipients_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'],
                                name=op.f('fk_campaign_recipients_subscriber_id_subscribers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_recipients')),
        sa.UniqueConstraint('campaign_id', 'subscriber_id', name=op.f('uq_campaign_recipients_campaign_id')),
    )
    op.create_index('ix_campaign_recipients_claim', 'campaign_recipients', ['campaign_id', 'status', 'id'],
                    unique=False)
    op.create_index('ix_campaign_recipients_subscriber_id', 'campaign_recipients', ['subscriber_id'], unique=False)


def downgrade():
    op.drop_index('ix_campaign_recipients_subscriber_id', table_name='campaign_recipients')
    op.drop_index('ix_campaign_recipients_claim', table_name='campaign_recipients')
    op.drop_table('campaign_recipients')
    op.drop_index('ix_campaigns_status_send_at', table_name='campaigns')
    op.drop_table('campaigns')
