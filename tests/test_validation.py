"""The rules for what people type, checked over the whole of Unicode where it is cheap."""

import sys
import unicodedata

import pytest

from services.errors import InvalidInput
from services.validation import clean_full_name, clean_text

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
