"""a default mailing list for a fresh install, so sign-ups work from the first request

The list is named from SITE_NAME when one is set; staff rename it in the console.
A database that already has lists is left as it is.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

SLUG = 'newsletter'
# config.py's SITE_NAME when none is set: not a publication's name.
UNSET_SITE_NAME = 'Roster'

mailing_lists = sa.table(
    'mailing_lists',
    sa.column('slug', sa.String), sa.column('name', sa.String), sa.column('description', sa.Text),
    sa.column('is_public', sa.Boolean), sa.column('is_default', sa.Boolean),
    sa.column('welcome_text', sa.Text), sa.column('created_at', sa.DateTime(timezone=True)),
)


def _list_name() -> str:
    site_name = (current_app.config.get('SITE_NAME') or '').strip()
    return f'{site_name} Newsletter' if site_name and site_name != UNSET_SITE_NAME else 'Newsletter'


def upgrade():
    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(mailing_lists)).scalar():
        return
    bind.execute(mailing_lists.insert().values(
        slug=SLUG, name=_list_name()[:200], description='', is_public=True, is_default=True,
        welcome_text='', created_at=datetime.now(UTC)))


def downgrade():
    # The list may hold subscriptions by now: a downgrade keeps it.
    pass
