"""Security headers on every response. A blueprint that must differ (the
framable embed form) sets its own headers first; these only fill in the rest."""

import secrets

from flask import Flask, request

NONCE_KEY = "roster.csp_nonce"


def csp_nonce() -> str:
    """One nonce per request, for the rare inline script that needs one."""
    return request.environ.setdefault(NONCE_KEY, secrets.token_urlsafe(16))


def content_security_policy(*, form_action: str = "'self'", frame_ancestors: str = "'none'") -> str:
    """The one policy every page gets; only where forms may post and who may frame
    the page differ (the embed pages set their own)."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{csp_nonce()}'; "
        "style-src 'self'; img-src 'self' data:; "
        f"object-src 'none'; base-uri 'none'; form-action {form_action}; "
        f"frame-ancestors {frame_ancestors}"
    )


def register_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    production = app.config["ENV_NAME"] == "production"

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = content_security_policy()
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
            headers.setdefault("X-Frame-Options", "DENY")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
