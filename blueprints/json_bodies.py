"""JSON request bodies: their nesting is bounded before they are parsed. json.loads
recurses, so a body of 100,000 nested arrays raises RecursionError (a 500), not the
ValueError that makes request.get_json answer 400 or, when silent, None."""

import re

from flask.json.provider import DefaultJSONProvider
from flask_babel import LazyString

# Our JSON bodies are flat objects of strings; 32 levels leaves room for any future shape.
MAX_JSON_DEPTH = 32
TOO_DEEP = f"The JSON nests deeper than {MAX_JSON_DEPTH} levels."
# A string (its closing quote optional, so an unterminated one is still read once, in
# linear time), or a bracket outside strings: the only one captured.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|([\[\]{}])', re.DOTALL)
_OPENING = (b"[", b"{")


class JSONTooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(TOO_DEEP)


def nests_too_deep(data: str | bytes) -> bool:
    if isinstance(data, str):
        data = data.encode()
    if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH:
        return False  # nearly every body: too few brackets to nest that deep
    depth = 0
    for bracket in _TOKENS.findall(data):
        if bracket in _OPENING:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif bracket:
            depth -= 1
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing (with a ValueError) what nests deeper than MAX_JSON_DEPTH;
    a lazily translated message is written as its text in the reader's language."""

    @staticmethod
    def default(o):
        if isinstance(o, LazyString):
            return str(o)
        return DefaultJSONProvider.default(o)

    def loads(self, s: str | bytes, **kwargs):
        if nests_too_deep(s):
            raise JSONTooDeep()
        return super().loads(s, **kwargs)
