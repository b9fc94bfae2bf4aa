"""The pure origin rules behind the embed and the API."""

from services.core import origins
from services.core.origins import is_allowed, origin_of, request_origin, safe_next, split_source

ALLOWED = ["https://news.example", "http://localhost:5001/"]


def test_origin_of_normalises_and_refuses_what_is_not_http():
    assert origin_of("HTTPS://News.Example:443/a?b#c") == "https://news.example"
    assert origin_of("http://localhost:5001/x") == "http://localhost:5001"
    assert origin_of("http://[::1]:8000/") == "http://[::1]:8000"
    for bad in (None, "", "javascript:alert(1)", "//news.example/x", "ftp://news.example", "https://news.example\x00/",
                "http://host:notaport/"):
        assert origin_of(bad) is None, bad


def test_long_posted_urls_are_answered_but_not_kept_in_the_cache():
    origins._cached_origin_of.cache_clear()  # a full cache would not grow either way
    long_url = "https://news.example/story?" + "x" * 100_000
    assert origin_of(long_url) == "https://news.example"
    assert origins._cached_origin_of.cache_info().currsize == 0
    assert origin_of("https://news.example/story") == "https://news.example"
    assert origins._cached_origin_of.cache_info().currsize == 1


def test_request_origin_prefers_origin_and_treats_null_as_missing():
    assert request_origin("https://news.example", "https://evil.example/") == "https://news.example"
    assert request_origin(None, "https://news.example/a") == "https://news.example"
    assert request_origin("null", "https://news.example/a") == "https://news.example"
    assert request_origin(None, None) is None


def test_allow_list_and_next():
    assert is_allowed("http://localhost:5001", ALLOWED)
    assert not is_allowed("https://news.example.evil.example", ALLOWED)
    assert not is_allowed(None, ALLOWED)
    assert safe_next("https://news.example/thanks", ALLOWED) == "https://news.example/thanks"
    for foreign in ("https://evil.example/", "/relative", "https://news.example/\r\nSet-Cookie: x", "javascript:x"):
        assert safe_next(foreign, ALLOWED) is None, foreign


def test_split_source_keeps_utm_apart():
    url, utm = split_source("https://news.example/a?id=3&utm_source=tw&UTM_Medium=social&utm_term=#top")
    assert url == "https://news.example/a?id=3"
    assert utm == {"utm_source": "tw", "utm_medium": "social"}
    assert split_source("not a url") == (None, {})
