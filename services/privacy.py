"""Erasure tombstones: recognise an erased address without storing it."""

import hashlib
import hmac

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.privacy import ErasureTombstone


def address_hash(email: str) -> str:
    # A dedicated key, so rotating SECRET_KEY does not forget who was erased.
    key = current_app.config["TOMBSTONE_KEY"].encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def is_erased(session: Session, email: str) -> bool:
    return session.scalar(
        select(ErasureTombstone.id).where(ErasureTombstone.address_hash == address_hash(email))
    ) is not None
