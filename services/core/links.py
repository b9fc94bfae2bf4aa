"""Absolute links for mail, built from BASE_URL (no request is needed)."""

from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter

_ADAPTERS = "roster.mail_link_adapters"


def _adapter(base_url: str) -> MapAdapter:
    """The URL map bound to BASE_URL, kept per app: a sign-up mails two links. Building
    URLs does not change the adapter, so one serves every thread."""
    adapters = current_app.extensions.setdefault(_ADAPTERS, {})
    adapter = adapters.get(base_url)
    if adapter is None:
        base = urlsplit(base_url)
        adapter = adapters[base_url] = current_app.url_map.bind(
            base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter


def external_url(endpoint: str, **values) -> str:
    return _adapter(current_app.config["BASE_URL"]).build(endpoint, values, force_external=True)


def mail_domain() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
