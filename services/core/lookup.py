"""Finding one row by its id, or the domain's NotFound, which every surface maps to 404."""

from typing import TypeVar

from sqlalchemy.orm import Session

from services.core.errors import NotFound

Row = TypeVar("Row")


def get_or_raise(session: Session, model: type[Row], row_id: int, message: str, *, for_update: bool = False,
                 populate_existing: bool = False) -> Row:
    """The row of `model` with this id; NotFound(message) when there is none. `for_update`
    takes its row lock (inside a write transaction)."""
    row = session.get(model, row_id, with_for_update=for_update or None, populate_existing=populate_existing)
    if row is None:
        raise NotFound(message)
    return row
