"""Fees as integer minor units of an ISO 4217 currency: parsing and display."""

from decimal import Decimal, InvalidOperation

import pycountry
from babel.numbers import format_currency
from flask_babel import gettext

from services.core.errors import InvalidInput
from services.core.languages import formatting_locale

# Most currencies have two decimal places; these are the common exceptions.
_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "UGX": 0,
                 "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3}
MAX_FEE_MINOR = 2**31 - 1  # the column is a 32-bit integer


def minor_digits(currency: str) -> int:
    return _MINOR_DIGITS.get(currency, 2)


def clean_currency(raw: str | None, *, field: str = "currency") -> str:
    code = (raw or "").strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise InvalidInput(field, "Give an ISO 4217 currency code such as EUR or GBP.")
    return code


def parse_fee(raw: str | None, currency: str, *, field: str = "fee") -> int:
    """'290' or '290.00' in `currency` → minor units (29000). Empty or 0 means free."""
    text = (raw or "").strip() or "0"
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(field, "Give the fee as a number, e.g. 290 or 290.00.") from None
    scaled = amount.scaleb(minor_digits(currency))
    if not amount.is_finite() or amount < 0 or scaled != scaled.to_integral_value():
        raise InvalidInput(field, f"Give the fee as a positive amount with at most "
                                  f"{minor_digits(currency)} decimal places.")
    if scaled > MAX_FEE_MINOR:
        raise InvalidInput(field, "That fee is too large.")
    return int(scaled)


def format_fee(fee_minor: int, currency: str) -> str:
    """The fee as the current language writes money (€290.00 in English, 290,00 € in French)."""
    if fee_minor == 0:
        return gettext("Free")
    amount = Decimal(fee_minor).scaleb(-minor_digits(currency))
    return format_currency(amount, currency, locale=formatting_locale())


def fee_amount(fee_minor: int, currency: str) -> str:
    """Minor units as the plain amount parse_fee reads back: 29000 EUR → '290.00'."""
    digits = minor_digits(currency)
    return f"{Decimal(fee_minor).scaleb(-digits):.{digits}f}"
