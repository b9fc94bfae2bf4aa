"""Which language a reader's page is in: `?lang=`, then the `lang` cookie the footer's
language menu sets, then Accept-Language, then the language of the list the page is
about, then DEFAULT_LANGUAGE. The staff console stays in English."""

from urllib.parse import urlencode

from flask import Flask, current_app, has_request_context, request
from flask_babel import refresh
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RoutingException

from extensions import babel
from services.core.languages import LANGUAGES, current_language, direction, shipped
from services.core.transactions import read_session
from services.subscriptions import lists

LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600
STAFF_BLUEPRINTS = frozenset({"admin", "dev"})
# The API's endpoints readers reach (the script widget's posts); the rest is the staff API.
READER_API = frozenset({"api.create_subscription", "api.preflight_subscription"})


def _is_staff_page() -> bool:
    if request.blueprint == "api":
        return request.endpoint not in READER_API
    return request.blueprint in STAFF_BLUEPRINTS or request.path.startswith("/admin")


def _list_language() -> str | None:
    """The language staff chose for the list this page is about (`?list=` or the archive's)."""
    slug = request.args.get("list") or (request.view_args or {}).get("list_slug")
    if not isinstance(slug, str) or not slug or len(slug) > 100:
        return None
    return lists.language_of(read_session(), slug)


def select_locale() -> str:
    default = shipped(current_app.config["DEFAULT_LANGUAGE"]) or "en"
    if not has_request_context():
        return default
    if _is_staff_page():
        return "en"
    return (shipped(request.args.get("lang"))
            or shipped(request.cookies.get(LANGUAGE_COOKIE))
            or request.accept_languages.best_match(LANGUAGES)
            or _list_language()
            or default)


def _answers_get(path: str) -> bool:
    try:
        current_app.url_map.bind_to_environ(request.environ).match(path, method="GET")
    except MethodNotAllowed:  # an endpoint that only takes posts (the embed's sign-up)
        return False
    except (HTTPException, RoutingException):  # a redirect: a GET still lands on a page
        return True
    return True


def language_menu() -> list[dict]:
    """The footer's links: this page in each language (a plain link works without JavaScript).
    None on the answer to a post whose address has no page to show."""
    if request.method != "GET" and not _answers_get(request.path):
        return []
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    current = current_language()
    return [{"code": code, "name": name, "current": code == current,
             "url": f"{request.path}?{urlencode([*query, ('lang', code)])}"}
            for code, name in LANGUAGES.items()]


def register_locale(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel keeps the locale on `g`, which outlives a request wherever one app context
    # serves several (the tests, a worker): each request chooses its own.
    app.before_request(refresh)
    app.jinja_env.globals["language_menu"] = language_menu
    app.jinja_env.globals["text_direction"] = lambda: direction(current_language())
    app.jinja_env.globals["page_language"] = current_language

    @app.after_request
    def remember_language(response):
        if _is_staff_page() or request.path.startswith(("/static/", "/api/", "/hooks/")):
            return response
        if chosen := shipped(request.args.get("lang")):
            # Not a secret and not needed by scripts; Lax so a link from a mail keeps the language.
            response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=LANGUAGE_COOKIE_MAX_AGE, samesite="Lax",
                                secure=request.is_secure, httponly=True)
        # A cache must not serve one reader's language to another.
        response.vary.update(("Accept-Language", "Cookie"))
        return response
