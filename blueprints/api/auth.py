"""Bearer-token authentication for the staff endpoints."""

from collections.abc import Callable
from functools import wraps

from flask import g, request

from blueprints.api.problems import problem
from blueprints.limits import staff_api_limit
from extensions import limiter
from services.staff import api_tokens


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def token_required(*, write: bool) -> Callable:
    """The view runs with `g.api_actor` set to the token's staff member; a read token may only read."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                g.api_actor = api_tokens.authenticate(_bearer_token(), write=write, ip=request.remote_addr)
            except api_tokens.TokenRejected as error:
                return problem(401, str(error), headers={"WWW-Authenticate": 'Bearer realm="roster"'})
            except api_tokens.ScopeTooNarrow as error:
                return problem(403, str(error), headers={
                    "WWW-Authenticate": 'Bearer realm="roster", error="insufficient_scope"'})
            return view(*args, **kwargs)

        # Per client address, like every other door in; a stolen token can't hammer the database.
        return limiter.limit(staff_api_limit)(wrapper)

    return decorate
