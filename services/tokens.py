"""Signed, purpose-bound, expiring tokens for the links we mail."""

from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.errors import ExpiredToken, InvalidToken


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
        raise ExpiredToken("This link has expired.") from None
    except BadSignature:
        raise InvalidToken("This link is not valid.") from None
    if not isinstance(payload, dict):
        raise InvalidToken("This link is not valid.")
    return payload, issued_at


def issued_before(issued_at: datetime, moment: datetime | None) -> bool:
    """Whether a token was issued before `moment` (token times have one-second resolution)."""
    return moment is not None and issued_at.timestamp() < int(moment.timestamp())
