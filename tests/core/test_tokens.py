"""Signed links: a rotated key keeps old links working, and new links use the new key."""

import pytest

from services.core.errors import InvalidToken
from services.core.links import external_url
from services.core.tokens import Purpose, make_token, read_token


def test_rotating_the_secret_key_signs_with_the_new_key_and_still_reads_the_old(app):
    app.config.update(SECRET_KEY="first-key-" * 4, SECRET_KEY_FALLBACKS=[])
    old = make_token(Purpose.UNSUBSCRIBE, {"subscriber": 1, "list": 2})

    app.config.update(SECRET_KEY="second-key" * 4, SECRET_KEY_FALLBACKS=["first-key-" * 4])
    new = make_token(Purpose.UNSUBSCRIBE, {"subscriber": 1, "list": 2})
    assert read_token(Purpose.UNSUBSCRIBE, old)[0] == {"subscriber": 1, "list": 2}
    assert read_token(Purpose.UNSUBSCRIBE, new)[0] == {"subscriber": 1, "list": 2}

    app.config.update(SECRET_KEY="first-key-" * 4, SECRET_KEY_FALLBACKS=[])
    with pytest.raises(InvalidToken):
        read_token(Purpose.UNSUBSCRIBE, new)


def test_a_token_is_bound_to_its_purpose(app):
    token = make_token(Purpose.UNSUBSCRIBE, {"subscriber": 1, "list": 2})
    with pytest.raises(InvalidToken):
        read_token(Purpose.PRIVACY, token)


def test_mailed_links_follow_a_changed_base_url(app):
    app.config["BASE_URL"] = "https://news.example/roster"
    assert external_url("public.confirm", token="t") == "https://news.example/roster/confirm/t"
    app.config["BASE_URL"] = "http://127.0.0.1:5000"
    assert external_url("public.confirm", token="t") == "http://127.0.0.1:5000/confirm/t"
