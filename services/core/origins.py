"""Where a cross-origin request came from, and what it may point back to.

Pure functions over strings: the embed and API views pass in the headers and
the configured allow-list, so every rule here is testable without a request.
"""

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from services.core.validation import clean_source_title

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
UTM_MAX_LENGTH = 200
# The article's title, kept in a subscription's utm beside the campaign parameters.
SOURCE_TITLE_KEY = "title"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
# URLs this long are not cached, so that posted values cannot pin much memory.
_LONGEST_CACHED_URL = 2048


def origin_of(url: str | None) -> str | None:
    """The `scheme://host[:port]` of an absolute http(s) URL, lower-cased, default port dropped."""
    if url is not None and len(url) <= _LONGEST_CACHED_URL:
        return _cached_origin_of(url)
    return _origin_of(url)


def _origin_of(url: str | None) -> str | None:
    if not url or _CONTROL_CHARACTER.search(url):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


# An embed sign-up asks about the same few origins (the allow-list, the post's Origin,
# its article) several times, and parsing a URL is not cheap.
_cached_origin_of = lru_cache(maxsize=256)(_origin_of)


def normalise_origins(origins: Iterable[str]) -> list[str]:
    return [found for found in (origin_of(item) for item in origins) if found]


def request_origin(origin_header: str | None, referer: str | None) -> str | None:
    """The origin a browser says it posted from: Origin, else the Referer's origin.

    Browsers send `Origin: null` from sandboxed frames and some redirects;
    that names no origin, so it falls back to the Referer like a missing header.
    """
    if origin_header and origin_header.strip() != "null":
        return origin_of(origin_header)
    return origin_of(referer)


def is_allowed(origin: str | None, allowed: Iterable[str]) -> bool:
    return origin is not None and origin in normalise_origins(allowed)


def safe_next(next_url: str | None, allowed: Iterable[str]) -> str | None:
    """`next` only when it is an absolute http(s) URL on an allowed origin."""
    if not next_url or any(ch in next_url for ch in "\r\n\\"):
        return None
    return next_url.strip() if is_allowed(origin_of(next_url), allowed) else None


def split_source(url: str | None) -> tuple[str | None, dict[str, str]]:
    """Split an article URL into the URL without its UTM parameters and those parameters.

    The article is what sign-ups are counted by; the campaign that brought the
    reader there is kept beside it. Fragments never reach a server, so are dropped.
    """
    if not url or origin_of(url) is None:
        return None, {}
    parts = urlsplit(url.strip())
    kept, utm = [], {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in UTM_KEYS:
            if value:
                utm[key.lower()] = value[:UTM_MAX_LENGTH]
        else:
            kept.append((key, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), "")), utm


def utm_fields(values: Mapping[str, object]) -> dict[str, str]:
    """UTM parameters given as separate form or JSON fields."""
    return {key: value[:UTM_MAX_LENGTH] for key in UTM_KEYS
            if isinstance(value := values.get(key), str) and value}


def source_details(source: str | None, values: Mapping[str, object], title: object) -> dict[str, str]:
    """What a sign-up keeps beside its article URL: the UTM parameters given as fields, and
    the article's title (under SOURCE_TITLE_KEY) when there is an article to name."""
    details = utm_fields(values)
    if source and (cleaned := clean_source_title(title)):
        details[SOURCE_TITLE_KEY] = cleaned
    return details
