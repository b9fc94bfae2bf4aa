"""The languages readers can use Roster in, and the language a mail or page is in.

Gettext (Flask-Babel) translates; this module only names the shipped languages. Services
render mail with `in_language`, so a mail follows its reader, not the request that sent it."""

from contextlib import contextmanager

from flask_babel import force_locale, get_locale

# Each language by its code, named as its readers write it (the footer's language menu).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "hi": "हिन्दी",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
}
RIGHT_TO_LEFT = frozenset({"ar"})
DEFAULT_LANGUAGE = "en"


def shipped(code: str | None) -> str | None:
    """`code` if Roster ships that language (`fr-CA` and `FR` count as `fr`), else None."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def direction(code: str) -> str:
    return "rtl" if code in RIGHT_TO_LEFT else "ltr"


def current_language() -> str:
    """The language gettext renders in now (English outside a request or app context)."""
    locale = get_locale()
    return shipped(str(locale)) or DEFAULT_LANGUAGE if locale is not None else DEFAULT_LANGUAGE


@contextmanager
def in_language(code: str | None):
    """Render (mail, subjects, invitations) in `code`, or in the current language if it is not shipped."""
    with force_locale(shipped(code) or current_language()):
        yield


# Numbers, dates and money are written as these locales write them; Roster's English is British.
_FORMAT_LOCALES = {"en": "en_GB"}


def formatting_locale() -> str:
    """The Babel locale that formats dates, numbers and money in the current language."""
    language = current_language()
    return _FORMAT_LOCALES.get(language, language)
