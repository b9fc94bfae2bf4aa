"""Demo data that reproduces the article page Roster was specified from."""

from sqlalchemy import select

from models import MailingList
from services.transactions import write_transaction

DEMO_LIST = {
    "slug": "international-relations",
    "name": "International Relations Updates",
    "description": "Analysis of diplomacy and world affairs, delivered weekly.",
}


def seed() -> list[str]:
    """Create the demo data that is missing; safe to run again. Returns what was made."""
    made = []
    with write_transaction() as session:
        if session.scalar(select(MailingList).where(MailingList.slug == DEMO_LIST["slug"])) is None:
            has_default = session.scalar(select(MailingList.id).where(MailingList.is_default))
            session.add(MailingList(**DEMO_LIST, is_public=True, is_default=has_default is None))
            made.append(f"mailing list {DEMO_LIST['name']!r}")
    return made
