"""Rules for what people type: one place, used by every form, the API and imports."""

import ipaddress
import re
import unicodedata
from functools import cache, lru_cache

import phonenumbers
import pycountry
from babel import Locale
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from flask_babel import LazyString, gettext, lazy_gettext

from services.core.errors import InvalidInput
from services.core.languages import formatting_locale

FULL_NAME_MAX_LENGTH = 200
# Control characters (Cc), line and paragraph separators (Zl, Zp), surrogates (Cs), and
# the replacement character that stands in for bytes that were not valid UTF-8. One
# character class, not a per-character loop: imports check every name.
_FORBIDDEN_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffd]")
_FORBIDDEN_IN_MULTILINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffd]")  # \n allowed


def storable(text: str) -> bool:
    """Whether every database can hold (and so could ever match) this text: PostgreSQL refuses NUL."""
    return "\x00" not in text


def ip_address_or_none(raw: str | None) -> str | None:
    """The IP address in `raw`, written canonically; None if it is not one (a proxy
    header can carry any text)."""
    try:
        return str(ipaddress.ip_address(raw)) if raw else None
    except ValueError:
        return None


def normalise_email(raw: str | None, *, check_deliverability: bool = False) -> str:
    value = (raw or "").strip()
    if not value:
        raise InvalidInput("email", gettext("Enter your email address."))
    if len(value) > 254:
        raise InvalidInput("email", gettext("That email address is too long."))
    if "\ufffd" in value:  # bytes that were not valid UTF-8
        raise InvalidInput("email", gettext("That email address contains characters that could not be read."))
    if not check_deliverability and (normalised := _plain_address(value)):
        return normalised
    try:
        result = validate_email(value, check_deliverability=check_deliverability)
    except EmailNotValidError as error:
        raise InvalidInput("email", reader_advice(str(error))) from None
    return result.normalized


# email-validator's refusals are written for developers ("The part after the @-sign contains
# invalid characters: '@'."); readers get plain advice, first match wins.
_ADVICE = (
    (re.compile(r"invalid characters: '@'|exactly one @"),
     lazy_gettext("Enter a valid email address: it can have only one @ sign, like name@example.com.")),
    (re.compile(r"must have an @-sign|something (before|after) the @-sign"),
     lazy_gettext("Enter a valid email address: it needs a name, an @ sign and a domain, like name@example.com.")),
    (re.compile(r"should have a period"),
     lazy_gettext("Enter a valid email address: the part after the @ needs a dot, as in example.com, "
                  "like name@example.com.")),
    (re.compile(r"two periods in a row"),
     lazy_gettext("Enter a valid email address: it has two dots in a row, like name@example.com.")),
    (re.compile(r"(start|end) with a period|period immediately"),
     lazy_gettext("Enter a valid email address: it cannot start or end with a dot, or have one next to the @, "
                  "like name@example.com.")),
    (re.compile(r"before the @-sign"),
     lazy_gettext("Enter a valid email address: the part before the @ has a space or a symbol addresses "
                  "cannot contain, like name@example.com.")),
    (re.compile(r"does not (exist|accept email)|not a valid domain|DNS"),
     lazy_gettext("Enter a valid email address: that domain does not receive email; check it for typos, "
                  "like name@example.com.")),
    (re.compile(r"after the @-sign|domain|hyphen"),
     lazy_gettext("Enter a valid email address: check the part after the @ for typos, like name@example.com.")),
    (re.compile(r"too long"), lazy_gettext("Enter a valid email address: it is too long, like name@example.com.")),
)


def reader_advice(validator_message: str) -> str:
    """What to tell a reader, in their language, whose address email-validator refused with `validator_message`."""
    for pattern, advice in _ADVICE:
        if pattern.search(validator_message):
            return str(advice)
    return gettext("Enter a valid email address, like name@example.com.")


# Most addresses are a plain ASCII local part at a domain many others share: for them,
# email-validator's whole answer is the local part as typed and the domain's normal
# form, and checking the domain is four fifths of its work (an import checks a million
# addresses at a few dozen domains). So the domain's answer is kept; anything else, and
# every refusal with its message, goes to email-validator itself. tests/core/test_validation.py
# checks that both give the same answer, under email-validator's default settings (which
# nothing here changes: STRICT, ALLOW_SMTPUTF8, TEST_ENVIRONMENT, the special-use domains).
_ATEXT = r"[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]+"
_PLAIN_ADDRESS = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@([a-zA-Z0-9.-]+)")
_CASE_INSENSITIVE_LOCAL_PARTS = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


def _plain_address(value: str) -> str | None:
    """email-validator's normal form of a plain address, or None: ask email-validator."""
    match = _PLAIN_ADDRESS.fullmatch(value)
    if match is None:
        return None
    local_part, domain = match.groups()
    if local_part.lower() in _CASE_INSENSITIVE_LOCAL_PARTS:
        return None  # RFC 2142 mailboxes are lower-cased
    normal_domain = _plain_domain(domain)
    return f"{local_part}@{normal_domain}" if normal_domain else None


@lru_cache(maxsize=4096)
def _plain_domain(domain: str) -> str | None:
    """The domain's normal form when it is valid and its normal form is ASCII of the
    same length (so no length limit can differ from the address as typed), else None."""
    try:
        normal = validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None
    return normal if normal == domain.lower() else None


def clean_text(raw: str | None, *, field: str, label: str | LazyString, max_length: int,
               multiline: bool = False) -> str:
    value = unicodedata.normalize("NFC", (raw or "").strip())
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if len(value) > max_length:
        raise InvalidInput(field, gettext("%(label)s can be at most %(count)s characters.", label=label,
                                          count=max_length))
    if (_FORBIDDEN_IN_MULTILINE if multiline else _FORBIDDEN_CHARACTER).search(value):
        raise InvalidInput(field, gettext("%(label)s contains characters that are not allowed.", label=label))
    return value


SOURCE_TITLE_MAX_LENGTH = 300


def clean_source_title(raw: object) -> str | None:
    """An article's title as its page sent it (document.title): whitespace collapsed,
    characters no text may hold dropped, cut to SOURCE_TITLE_MAX_LENGTH; None if nothing
    is left. Tidied, never refused: the reader cannot change it, so a sign-up must not
    fail over it."""
    if not isinstance(raw, str):
        return None
    value = _FORBIDDEN_CHARACTER.sub("", unicodedata.normalize("NFC", " ".join(raw.split())))
    return value[:SOURCE_TITLE_MAX_LENGTH].strip() or None


FULL_NAME_LABEL = lazy_gettext("Full name")  # read only when a message names the field


def clean_full_name(raw: str | None) -> str:
    return clean_text(raw, field="full_name", label=FULL_NAME_LABEL, max_length=FULL_NAME_MAX_LENGTH)


PHONE_MAX_LENGTH = 32


def clean_phone(raw: str | None, *, field: str = "phone") -> str | None:
    """An optional international number (+ and country code), stored as E.164."""
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > PHONE_MAX_LENGTH:
        raise InvalidInput(field, gettext("A phone number can be at most %(count)s characters.",
                                          count=PHONE_MAX_LENGTH))
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(field, gettext("Enter a valid phone number in international format, starting with + "
                                          "and the country code, e.g. %(example)s.", example="+44 20 7946 0958"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def countries() -> tuple[tuple[str, str], ...]:
    """(ISO 3166-1 alpha-2 code, name) for every country, named and ordered in the current language."""
    return _countries(formatting_locale())


@cache
def _countries(locale: str) -> tuple[tuple[str, str], ...]:
    names = Locale.parse(locale).territories
    named = ((c.alpha_2, names.get(c.alpha_2, c.name)) for c in pycountry.countries)
    return tuple(sorted(named, key=lambda pair: pair[1]))


def clean_country(raw: str | None, *, field: str = "country") -> str | None:
    value = (raw or "").strip().upper()
    if not value:
        return None
    if len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
        raise InvalidInput(field, gettext("Choose a country from the list."))
    return value
