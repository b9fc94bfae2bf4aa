"""api tokens: a label saying what each token is for

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('api_tokens', sa.Column('label', sa.String(length=100), nullable=False, server_default=''))


def downgrade():
    op.drop_column('api_tokens', 'label')
