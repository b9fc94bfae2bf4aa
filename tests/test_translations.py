"""The shipped catalogues are complete, and no reader-facing English is left outside gettext."""

import io
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from services.core.languages import LANGUAGES
from tests.support import csrf_token, link_path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = sorted(set(LANGUAGES) - {"en"})


def catalogue(language: str):
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def extracted_msgids() -> set:
    """What `make translations` would extract now (babel.cfg, with the same keywords)."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
    return {message for _, _, message, *_ in extract_from_dir(ROOT, method_map, options_map, keywords=keywords)}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_shipped_catalogue_is_complete_current_and_compiled(language):
    messages = catalogue(language)
    entries = {message.id: message for message in messages if message.id}
    untranslated = [i for i, m in entries.items() if not all(m.string if isinstance(m.string, tuple) else [m.string])]
    fuzzy = [i for i, m in entries.items() if m.fuzzy]
    assert (untranslated, fuzzy) == ([], [])
    assert not messages.fuzzy
    assert [(m.id, errors) for m, errors in messages.check()] == []
    missing = extracted_msgids() - set(entries)
    assert missing == set(), "run `make translations` and translate the new messages"
    compiled = io.BytesIO()
    write_mo(compiled, messages)
    assert (ROOT / "translations" / language / "LC_MESSAGES" / "messages.mo").read_bytes() == compiled.getvalue(), \
        "the .mo is older than its .po: run `make translations`"


# What the test itself puts on the pages (names, addresses, links), not Roster's words.
LATIN_WORDS = re.compile(r"[A-Za-z][A-Za-z']*")
ADDRESSES = re.compile(r"\S+@\S+|https?://\S+|\+44 20 7946 0958")


def english_left(text: str, data: list[str]) -> list[str]:
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    text = ADDRESSES.sub(" ", text)
    words = set(LATIN_WORDS.findall(text)) - {"JSON", "Atom", "IP"}
    return sorted(words)


def visible(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    # the language menu names each language in that language, on purpose
    page = re.sub(r'<nav class="languages".*?</nav>', " ", page, flags=re.S)
    page = re.sub(r'<[^>]*\b(?:alt|title|placeholder|aria-label)="([^"]*)"[^>]*>', r" \1 ", page)
    return " ".join(re.sub(r"<[^>]+>", " ", page).replace("&#39;", "'").replace("&amp;", "&").split())


@pytest.mark.parametrize("language", ["ar", "hi"])
def test_no_reader_page_or_mail_is_left_in_english(client, newsletter, make_cohort, deliver, language):
    cohort = make_cohort(capacity=1, seats_taken=0)
    course = cohort.course
    data = [newsletter.name, newsletter.description, course.title, course.summary, "Six weeks of", "reading",
            cohort.label, "Newsletter"]  # the publication's fallback name
    headers = {"Accept-Language": language}
    slug = course.slug
    pages = ["/subscribe", "/subscribe?list=updates", "/privacy", "/courses", f"/courses/{slug}",
             f"/courses/{slug}/enroll", "/embed/form", "/embed/form?list=updates", "/no-such-page",
             "/newsletters/updates"]
    seen = {path: client.get(path, headers=headers).get_data(as_text=True) for path in pages}
    signed_up = client.post("/subscribe", headers=headers, follow_redirects=True,
                            data={"csrf_token": csrf_token(client), "email": "reader@example.org"})
    seen["/subscribe/check-your-inbox"] = signed_up.get_data(as_text=True)
    invalid = client.post(f"/courses/{slug}/enroll", headers=headers, data={
        "csrf_token": csrf_token(client, f"/courses/{slug}/enroll"), "cohort": str(cohort.id), "email": "x"})
    seen["enrolment errors"] = invalid.get_data(as_text=True)
    [mail] = deliver(1)
    seen["confirm page"] = client.get(link_path(mail, "confirm"), headers=headers).get_data(as_text=True)
    seen["unsubscribe page"] = client.get(link_path(mail, "unsubscribe"), headers=headers).get_data(as_text=True)
    left = {name: english_left(visible(page), data) for name, page in seen.items()}
    script = client.get("/embed.js", headers=headers).get_data(as_text=True)
    words = json.loads(re.search(r"var TEXT = (\{.*?\});", script).group(1))
    left["embed.js"] = english_left(" ".join(words.values()), data)
    left["mail subject"] = english_left(str(mail["Subject"]), data)
    left["mail text"] = english_left(mail.get_body(("plain",)).get_content(), data)
    left["mail html"] = english_left(visible(mail.get_body(("html",)).get_content()), data)
    assert {name: words for name, words in left.items() if words} == {}


def test_wtforms_own_messages_follow_the_page_language_from_a_catalog_read_once(app, monkeypatch):
    from babel import support
    from flask_babel import refresh
    from wtforms import SelectField

    from blueprints import forms

    class Choice(forms.Form):
        class Meta:
            csrf = False

        colour = SelectField(choices=[("red", "Red")])

    forms._catalog.cache_clear()
    reads = []
    load = support.Translations.load
    monkeypatch.setattr(support.Translations, "load", lambda *a, **k: reads.append(a) or load(*a, **k))
    answers = {}
    for language in ["fr", "en", "fr", "fr"]:
        with app.test_request_context(f"/subscribe?lang={language}", method="POST", data={"colour": "blue"}):
            refresh()  # as each request does (the test's app context outlives it)
            form = Choice()
            assert not form.validate()
            answers.setdefault(language, set()).add(form.colour.errors[0])
    assert answers == {"fr": {"N'est pas un choix valide."}, "en": {"Not a valid choice."}}
    assert len(reads) == 2  # once per language, not once per request


def test_every_form_derives_from_the_base_form():
    """The base gives WTForms' messages in the page's language without a disk read per request."""
    direct = [str(path.relative_to(ROOT)) for path in (ROOT / "blueprints").rglob("*.py")
              if path.name != "forms.py" or path.parent.name != "blueprints"
              if re.search(r"\(FlaskForm\)", path.read_text())]
    assert direct == []
