"""Reading JSON bodies and query parameters for the API, with problem-detail errors."""

from flask import Response, request

from blueprints.api.problems import invalid_fields, problem
from blueprints.json_bodies import TOO_DEEP, nests_too_deep

MAX_ROW_ID = 2**31 - 1  # the largest id an INTEGER column holds
MAX_PAGE_SIZE = 100
SEARCH_MAX_LENGTH = 320
CURSOR_MAX_LENGTH = 200


class RequestRejected(Exception):
    """The request cannot be used; `response` says why."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def json_object(fields: dict[str, int], *, required: tuple[str, ...] = (), optional_body: bool = False) -> dict:
    """The body as an object of string fields, each at most `fields[name]` long."""
    if optional_body and not request.content_length and not request.data:
        return {}
    if not request.is_json:
        raise RequestRejected(problem(415, "Send a JSON object with Content-Type: application/json."))
    body = request.get_json(silent=True)
    if body is None:
        detail = TOO_DEEP if nests_too_deep(request.get_data()) else "The body is not valid JSON."
        raise RequestRejected(problem(400, detail))
    if not isinstance(body, dict):
        raise RequestRejected(invalid_fields({"body": ["Send a JSON object."]}))
    errors = {}
    for name, value in body.items():
        if name not in fields:
            errors[name] = ["This field is not known."]
        elif not isinstance(value, str):
            errors[name] = ["This field must be a string."]
        elif len(value) > fields[name]:
            errors[name] = [f"This field can be at most {fields[name]} characters."]
    for name in required:
        if name not in body:
            errors[name] = ["This field is required."]
    if errors:
        raise RequestRejected(invalid_fields(errors))
    return body


def only_query(*names: str) -> None:
    """Refuse query parameters a view does not know, rather than silently ignore them."""
    unknown = sorted(set(request.args) - set(names))
    if unknown:
        raise RequestRejected(invalid_fields({name: ["This query parameter is not known."] for name in unknown}))


def int_arg(name: str, default: int | None, *, minimum: int, maximum: int | None = None) -> int:
    """A whole-number query parameter; required when there is no default."""
    raw = request.args.get(name)
    if raw is None:
        if default is None:
            raise RequestRejected(invalid_fields({name: ["This query parameter is required."]}))
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"{minimum} or more"
        raise RequestRejected(invalid_fields({name: [f"Must be a whole number {bounds}."]}))
    return value


def str_arg(name: str, *, max_length: int) -> str | None:
    value = request.args.get(name) or None
    if value is not None and len(value) > max_length:
        raise RequestRejected(invalid_fields({name: [f"Can be at most {max_length} characters."]}))
    return value
