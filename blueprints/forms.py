"""The base of every form: Flask-WTF's, with WTForms' own messages ("Not a valid choice.")
in the page's language from a catalog read once per language. Flask-WTF reads the catalog
from disk again on every request that makes a form."""

from functools import cache

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@cache
def _catalog(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _PageLanguage:
    """WTForms' translations interface, answered in the language of the current page."""

    @staticmethod
    def _current() -> support.NullTranslations:
        return _catalog(str(get_locale() or "en"))

    def gettext(self, string: str) -> str:
        return self._current().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._current().ungettext(singular, plural, n)


_PAGE_LANGUAGE = _PageLanguage()


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _PAGE_LANGUAGE
