"""Security headers on every response. A blueprint that must differ (the
framable embed form) sets its own headers first; these only fill in the rest."""

import secrets

from flask import Flask, request

NONCE_KEY = "roster.csp_nonce"


def csp_nonce() -> str:
    """One nonce per request, for the rare inline script that needs one."""
    return request.environ.setdefault(NONCE_KEY, secrets.token_urlsafe(16))


def register_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    production = app.config["ENV_NAME"] == "production"

    @app.after_request
    def add_security_headers(response):
        policy = (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{csp_nonce()}'; "
            "style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'"
        )
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
            headers.setdefault("X-Frame-Options", "DENY")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
