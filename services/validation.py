"""Rules for what people type: one place, used by every form, the API and imports."""

import unicodedata

from email_validator import EmailNotValidError, validate_email

from services.errors import InvalidInput

FULL_NAME_MAX_LENGTH = 200
# Control characters, line/paragraph separators, surrogates, and the replacement
# character that stands in for bytes that were not valid UTF-8.
_FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp", "Cs"}


def storable(text: str) -> bool:
    """Whether every database can hold (and so could ever match) this text: PostgreSQL refuses NUL."""
    return "\x00" not in text


def normalise_email(raw: str | None, *, check_deliverability: bool = False) -> str:
    value = (raw or "").strip()
    if not value:
        raise InvalidInput("email", "Enter your email address.")
    if len(value) > 254:
        raise InvalidInput("email", "That email address is too long.")
    if "\ufffd" in value:  # bytes that were not valid UTF-8
        raise InvalidInput("email", "That email address contains characters that could not be read.")
    try:
        result = validate_email(value, check_deliverability=check_deliverability)
    except EmailNotValidError as error:
        raise InvalidInput("email", f"Enter a valid email address. {error}") from None
    return result.normalized


def clean_text(raw: str | None, *, field: str, label: str, max_length: int) -> str:
    value = unicodedata.normalize("NFC", (raw or "").strip())
    if len(value) > max_length:
        raise InvalidInput(field, f"{label} can be at most {max_length} characters.")
    if "\ufffd" in value or any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in value):
        raise InvalidInput(field, f"{label} contains characters that are not allowed.")
    return value


def clean_full_name(raw: str | None) -> str:
    return clean_text(raw, field="full_name", label="Full name", max_length=FULL_NAME_MAX_LENGTH)
