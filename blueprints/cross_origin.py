"""Requests from article pages on other origins: the allow-list, CORS, article source,
and the per-address rate limit shared by the embed and the public API."""

from flask import Response, current_app, request
from flask_babel import lazy_gettext

from services.core.origins import (
    is_allowed,
    normalise_origins,
    origin_of,
    request_origin,
    source_details,
    split_source,
)

# What every sign-up from another site is told, whatever the address's state.
THANKS = lazy_gettext("Thank you. If that address can receive our newsletter, we have sent it an email: "
                      "open it and follow the link to finish.")


def own_origins() -> list[str]:
    """Roster's own origin, from BASE_URL: the iframe form posts from here. Never the
    request's Host, which whoever sends the request chooses."""
    return normalise_origins([current_app.config["BASE_URL"]])


_ALLOWED_KEY = "roster.allowed_origins"


def allowed_origins() -> list[str]:
    """The article sites and Roster itself, worked out once per request: an embed sign-up
    asks three times (the post's origin, the way back, the frame policy)."""
    cached = request.environ.get(_ALLOWED_KEY)
    if cached is None:
        cached = request.environ[_ALLOWED_KEY] = (
            normalise_origins(current_app.config["EMBED_ALLOWED_ORIGINS"]) + own_origins())
    return cached


def posting_origin() -> str | None:
    return request_origin(request.headers.get("Origin"), request.referrer)


def origin_allowed() -> bool:
    return is_allowed(posting_origin(), allowed_origins())


def allow_cors(response: Response) -> Response:
    """Let an allowed origin's script read this response (no cookies: credentials stay off)."""
    origin = request.headers.get("Origin")
    response.vary.add("Origin")
    if origin and is_allowed(origin_of(origin), allowed_origins()):
        response.headers["Access-Control-Allow-Origin"] = origin_of(origin)
    return response


def is_article(url: str | None) -> bool:
    """Whether `url` is a page on an article site, which a page may link back to."""
    return bool(url) and is_allowed(origin_of(url), allowed_origins()) and origin_of(url) not in own_origins()


def article_url(explicit: str | None) -> str | None:
    """The page a sign-up came from: an explicit `source` wins; otherwise the
    Referer, unless it is one of our own pages (the iframe form)."""
    if explicit:
        return explicit
    return request.referrer if origin_of(request.referrer) not in own_origins() else None


def article_source(explicit: str | None, values, title: object = None) -> tuple[str | None, dict[str, str]]:
    """The article URL without UTM parameters, and what is kept beside it: those
    parameters (also as fields) and the article's `title`."""
    source, utm = split_source(article_url(explicit))
    return source, {**utm, **source_details(source, values, title)}
