"""RFC 9457 problem details: every API error is application/problem+json."""

from http import HTTPStatus

from flask import Response, jsonify

PROBLEM_TYPE = "about:blank"


def problem(status: int, detail: str | None = None, *, headers: dict | None = None, **extensions) -> Response:
    body = {"type": PROBLEM_TYPE, "title": HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extensions)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    response.headers.update(headers or {})
    return response


def invalid_fields(errors: dict[str, list[str]]) -> Response:
    """422 naming each field with its first message, as the forms show them."""
    return problem(422, "Please correct the fields named in `errors`.",
                   errors=[{"field": field, "message": messages[0]} for field, messages in errors.items()])
