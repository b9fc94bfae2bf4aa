"""The session cookie, signed as Flask signs it, with its serializer made once per key set."""

from functools import lru_cache

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionInterface(SecureCookieSessionInterface):
    """Flask makes the cookie's serializer anew on every request, even one that carries
    no cookie (every embed sign-up). Serializers keep no per-use state, so one serves
    every request with the same keys."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        # itsdangerous signs with the last key and accepts every key in the list.
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        return _serializer(keys, self.salt, self.serializer, self.key_derivation, self.digest_method)


@lru_cache(maxsize=8)
def _serializer(keys: tuple, salt: str, serializer, key_derivation: str, digest_method) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(list(keys), salt=salt, serializer=serializer,
                                  signer_kwargs={"key_derivation": key_derivation, "digest_method": digest_method})
