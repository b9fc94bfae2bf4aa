"""Signed, purpose-bound, expiring tokens for the links we mail."""

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from flask import current_app
from flask_babel import gettext, lazy_gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.core.errors import ExpiredToken, InvalidToken


class Purpose(StrEnum):
    CONFIRM_SUBSCRIPTION = "confirm-subscription"
    UNSUBSCRIBE = "unsubscribe"
    CONFIRM_ENROLLMENT = "confirm-enrollment"
    CANCEL_ENROLLMENT = "cancel-enrollment"
    STOP_COURSE_MAIL = "stop-course-mail"
    PRIVACY = "privacy"


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    config = current_app.config
    # itsdangerous signs with the last key and accepts every key in the list.
    return _serializer_for(purpose, (*config.get("SECRET_KEY_FALLBACKS", []), config["SECRET_KEY"]))


@lru_cache(maxsize=32)
def _serializer_for(purpose: Purpose, keys: tuple[str, ...]) -> URLSafeTimedSerializer:
    """Built once per purpose and key set: a sign-up signs two links. Serializers keep
    no per-use state."""
    return URLSafeTimedSerializer(list(keys), salt=f"roster.{purpose}")


def make_token(purpose: Purpose, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: Purpose, token: str, max_age: int | None = None) -> tuple[dict, datetime]:
    """Return the payload and the time the token was issued, or raise InvalidToken."""
    try:
        payload, issued_at = _serializer(purpose).loads(
            token, max_age=max_age, return_timestamp=True
        )
    except SignatureExpired:
        raise ExpiredToken(gettext("This link has expired.")) from None
    except BadSignature:
        raise InvalidToken(gettext("This link is not valid.")) from None
    if not isinstance(payload, dict):
        raise InvalidToken(gettext("This link is not valid."))
    return payload, issued_at


# A link whose row has gone, or whose id now names another row.
NO_LONGER_VALID = lazy_gettext("This link is no longer valid.")


def make_row_token(purpose: Purpose, row_id: int, link_key: str, *,
                   more_rows: Sequence[tuple[int, str]] = (), **extra: int) -> str:
    """A link to one row: its id and its link key (models/base.py link_key_column), and
    any further ids the link needs (short names keep the URL short). `more_rows`: further
    rows of the same kind that the one link acts on, each by its id and link key."""
    payload: dict[str, Any] = {"i": row_id, "k": link_key, **extra}
    if more_rows:
        payload["r"] = [[more_id, more_key] for more_id, more_key in more_rows]
    return make_token(purpose, payload)


class KeyedRow(Protocol):
    """A row that mailed links name: its link key (models/base.py link_key_column)."""

    @property
    def link_key(self) -> str: ...


KeyedRowT = TypeVar("KeyedRowT", bound=KeyedRow)


@dataclass(frozen=True)
class RowLink:
    row_id: int
    link_key: str
    issued_at: datetime
    payload: dict

    def check(self, row: KeyedRowT | None) -> KeyedRowT:
        """`row`, or InvalidToken unless it (None if it has gone) carries this link's key:
        an id alone may name a newer row that took the id of the one the link was for."""
        if row is None or not row.link_key or not hmac.compare_digest(
            row.link_key.encode(), self.link_key.encode()
        ):
            raise InvalidToken(NO_LONGER_VALID)
        return row

    def rows(self) -> list["RowLink"]:
        """Every row the link names: its own, then any `more_rows` it was made with."""
        more = self.payload.get("r", [])
        if not isinstance(more, list) or not all(
            isinstance(row, list) and len(row) == 2 and isinstance(row[0], int) and isinstance(row[1], str)
            and row[1] for row in more
        ):
            raise InvalidToken(NO_LONGER_VALID)
        return [self, *(RowLink(row_id, link_key, self.issued_at, {}) for row_id, link_key in more)]


def read_row_token(purpose: Purpose, token: str, max_age: int | None = None) -> RowLink:
    """The row a link names; check it with RowLink.check once the row is read."""
    payload, issued_at = read_token(purpose, token, max_age=max_age)
    row_id, link_key = payload.get("i"), payload.get("k")
    if not isinstance(row_id, int) or not isinstance(link_key, str) or not link_key:
        # Links signed before rows had keys name a bare id, which may since have been
        # given to someone else: they cannot be told apart, so none is honoured, and the
        # reader uses a newer mail's link or asks for a new one.
        raise InvalidToken(NO_LONGER_VALID)
    return RowLink(row_id, link_key, issued_at, payload)


def issued_before(issued_at: datetime, moment: datetime | None) -> bool:
    """Whether a token was issued before `moment` (token times have one-second resolution)."""
    return moment is not None and issued_at.timestamp() < int(moment.timestamp())
