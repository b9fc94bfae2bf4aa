"""Rate limits: the values come from configuration, so operators can tune them."""

from flask import current_app, request

from services.core.errors import InvalidInput
from services.core.validation import normalise_email


def public_post_limit() -> str:
    """Every public POST, per client address."""
    return current_app.config["PUBLIC_POST_RATE_LIMIT"]


def staff_api_limit() -> str:
    return current_app.config["STAFF_API_RATE_LIMIT"]


def address_post_limit() -> str:
    return current_app.config["ADDRESS_POST_RATE_LIMIT"]


def address_rate_key() -> str:
    """Rate-limit key: the normalised address posted, so one address cannot be
    flooded from many IPs. A post without an address is keyed by its IP."""
    # A JSON body, a form, or (Mailchimp's JSONP GET) the query string.
    values = request.get_json(silent=True) if request.is_json else request.form if request.form else request.args
    raw = values.get("email") or values.get("EMAIL") if isinstance(values, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        return f"no-address:{request.remote_addr}"
    try:
        address = normalise_email(raw)
    except InvalidInput:
        address = raw.strip()
    return f"address:{address.lower()}"
