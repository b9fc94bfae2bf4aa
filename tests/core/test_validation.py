"""The rules for what people type, checked over the whole of Unicode where it is cheap."""

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.core.errors import InvalidInput
from services.core.validation import clean_full_name, clean_text

# Control characters, line and paragraph separators, surrogates, and U+FFFD.
FORBIDDEN_CATEGORIES = {"Cc", "Zl", "Zp", "Cs"}


def forbidden(ch: str, multiline: bool) -> bool:
    if multiline and ch in "\r\n":
        return False  # a line break (a lone CR becomes one)
    return unicodedata.category(ch) in FORBIDDEN_CATEGORIES or ch == "\ufffd"


@pytest.mark.parametrize("multiline", [False, True])
def test_text_is_refused_exactly_for_the_forbidden_categories_over_every_code_point(multiline):
    refused = []
    for code_point in range(sys.maxunicode + 1):
        ch = chr(code_point)
        try:
            clean_text(f"a{ch}b", field="x", label="X", max_length=10, multiline=multiline)
        except InvalidInput:
            refused.append(code_point)
    assert refused == [cp for cp in range(sys.maxunicode + 1) if forbidden(chr(cp), multiline)]


def test_names_keep_letters_of_every_script_and_normalise_to_nfc():
    assert clean_full_name("  Zoë Ødegård 王秀英 ") == "Zoë Ødegård 王秀英"
    assert clean_full_name("Zoe\u0308") == "Zoë"


# --- addresses: the plain-address shortcut must answer exactly as email-validator does

def email_validator_answer(address: str) -> str:
    """What normalise_email answers when every address goes to email-validator."""
    from email_validator import EmailNotValidError, validate_email

    from services.core.validation import reader_advice

    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        return f"refused: {reader_advice(str(error))}"


def our_answer(address: str) -> str:
    from services.core.validation import normalise_email

    try:
        return normalise_email(address)
    except InvalidInput as error:
        return f"refused: {error.message}"


ATEXT = "abcXYZ019_!#$%&'*+-/=?^`{|}~"
LOCAL_PARTS = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),
    st.sampled_from(["Info", "POSTMASTER", "abuse", "Www", "news", "a", '"quoted"', "a b", "zoë", "a@b", "<a>"]),
    st.text(min_size=1, max_size=12),  # anything at all, Unicode included
)
LABELS = st.one_of(
    st.text(alphabet="abcXYZ019-", min_size=0, max_size=70),
    st.sampled_from(["xn--bcher-kva", "bücher", "münchen", "ÉCOLE", "123", "-a", "a-", "ab--cd", "xn--", "_"]),
)
TOP_LEVEL = st.sampled_from(["com", "ORG", "example", "test", "invalid", "localhost", "local", "onion", "arpa",
                             "123", "c0m", "xn--p1ai", "рф", "", "a" * 64])
DOMAINS = st.one_of(
    st.builds(lambda labels, top: ".".join([*labels, top]), st.lists(LABELS, max_size=4), TOP_LEVEL),
    st.sampled_from(["[192.0.2.1]", "localhost", "example.com.", ".example.com", "a..b.com", "a" * 250 + ".com"]),
)


@settings(max_examples=3000, deadline=None)
@given(local_part=LOCAL_PARTS, domain=DOMAINS)
def test_addresses_are_answered_as_email_validator_answers_them(local_part, domain):
    address = f"{local_part}@{domain}"
    if not (0 < len(address.strip()) <= 254) or address != address.strip() or "\ufffd" in address:
        return  # refused before email-validator is asked (blank, too long, unreadable) or stripped first
    assert our_answer(address) == email_validator_answer(address)


@pytest.mark.parametrize("address", [
    "reader@example.com", "Reader.Name+news@Example.ORG", "POSTMASTER@example.com", "info@EXAMPLE.com",
    "a..b@example.com", ".a@example.com", "a.@example.com", "a@localhost", "a@example", "a@b.test",
    "a@xn--bcher-kva.example", "a@-bad.example.com", "a@example.123", "o'brien@example.ie",
    "x" * 64 + "@" + "d" * 63 + ".example.com", "x" * 65 + "@example.com",
    "a@" + "d" * 64 + ".com", "a@" + ".".join(["d" * 63] * 3) + ".com",
])
def test_plain_and_edge_addresses_are_answered_as_email_validator_answers_them(address):
    assert our_answer(address) == email_validator_answer(address)


@pytest.mark.parametrize(("typed", "advice"), [
    ("a@b@c.com", "only one @ sign"),
    ("nope", "a name, an @ sign and a domain"),
    ("a@b", "needs a dot"),
    ("a b@c.com", "part before the @"),
    ("a@b..com", "two dots in a row"),
    ("a@ex ample.com", "part after the @"),
])
def test_refused_addresses_get_plain_advice_not_the_validators_words(typed, advice):
    from services.core.validation import normalise_email

    with pytest.raises(InvalidInput) as refused:
        normalise_email(typed)
    assert advice in refused.value.message and refused.value.message.startswith("Enter a valid email address")
    assert "@-sign" not in refused.value.message and "SPACE" not in refused.value.message
