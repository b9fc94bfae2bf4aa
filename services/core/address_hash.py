"""A keyed hash of an email address: how an erased address is recognised (by imports, and by
the suppression list at send time) without being stored."""

import hashlib
import hmac

from flask import current_app


def address_hash(email: str) -> str:
    # A dedicated key, so rotating SECRET_KEY does not forget who was erased.
    key = (current_app.config["TOMBSTONE_KEY"] or current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()
