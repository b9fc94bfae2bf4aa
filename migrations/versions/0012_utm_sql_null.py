"""sign-ups without campaign parameters store SQL NULL, not the JSON text 'null'

The sign-up statement wrote JSON null into subscriptions.utm when a reader came from no
campaign; "came from a campaign" is `utm IS NOT NULL`, so those rows become SQL NULL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28

"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    as_text = "utm::text" if op.get_bind().dialect.name == "postgresql" else "utm"
    op.execute(f"UPDATE subscriptions SET utm = NULL WHERE {as_text} = 'null'")


def downgrade():
    pass  # SQL NULL and JSON null both read back as "no campaign"
