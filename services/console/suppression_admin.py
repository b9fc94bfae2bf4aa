"""The suppression list in the console: staff add an address with a note, an owner takes
one off (both audited), and the whole list downloads as CSV."""

from models.base import utcnow
from services.core.audit import Actor
from services.core.csv_safety import CsvStream, download_name
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import database_engine, write_transaction
from services.core.validation import clean_text, normalise_email
from services.data.exports import audit_on_finish
from services.mail import suppression

NOTE_LENGTH = 500
EXPORT_ACTION = "suppressions.export"


def add(actor: Actor, address: str, note: str) -> bool:
    """List `address` with the staff member's note; False if it was listed already (its
    first reason stays). Bad input raises InvalidInput and changes nothing."""
    email = normalise_email(address)
    note = clean_text(note, field="note", label="Note", max_length=NOTE_LENGTH)
    with write_transaction() as session:
        return suppression.add_by_staff(session, actor, email, note)


def remove(actor: Actor, address: str) -> None:
    """Take `address` off the list, so it may be mailed again (an owner's call, audited)."""
    if not address.strip():
        raise InvalidInput("address", "Say which address to remove.")
    with write_transaction() as session:
        if not suppression.unsuppress(session, actor, address):
            raise NotFound("That address is not on the suppression list.")


def export(actor: Actor, *, bom: bool = False) -> CsvStream:
    """Every listed address as formula-safe CSV, streamed; the download is audited with its row count."""
    engine = database_engine()
    return CsvStream(engine, suppression.export_statement(), suppression.EXPORT_HEADER, bom=bom,
                     on_finish=audit_on_finish(engine, actor, EXPORT_ACTION, "suppressions", {}))


def export_filename() -> str:
    return download_name("suppressions", utcnow().strftime("%Y-%m-%d"))
