"""Staff API: subscribers for people and programs holding an API token.

Enrolments are not here yet: they arrive with the courses feature.
"""

from collections.abc import Callable
from functools import wraps

from flask import Response, g, request, stream_with_context

from blueprints.api import bp
from blueprints.api.problems import invalid_fields, problem
from blueprints.api.requests import int_arg, json_object, only_query, str_arg
from blueprints.requests import consent_origin
from extensions import csrf
from models import Subscriber, Subscription
from services import api_tokens, subscriber_directory, subscriptions
from services.csv_export import csv_lines
from services.errors import InvalidInput, NotFound
from services.subscriber_directory import (
    EXPORT_HEADER,
    LIST_SLUG_MAX_LENGTH,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_ROW_ID,
    SEARCH_MAX_LENGTH,
)


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def token_required(*, write: bool) -> Callable:
    """Bearer-token authentication; a read token may only read."""

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

        return wrapper

    return decorate


def _subscription_json(subscription: Subscription) -> dict:
    return {
        "list": subscription.mailing_list.slug, "status": subscription.status.value,
        "created_at": subscription.created_at.isoformat(),
        "confirmed_at": subscription.confirmed_at.isoformat() if subscription.confirmed_at else None,
        "unsubscribed_at": subscription.unsubscribed_at.isoformat() if subscription.unsubscribed_at else None,
        "source_url": subscription.source_url, "utm": subscription.utm,
    }


def _subscriber_json(subscriber: Subscriber) -> dict:
    return {
        "id": subscriber.id, "email": subscriber.email, "full_name": subscriber.full_name,
        "created_at": subscriber.created_at.isoformat(),
        "subscriptions": [_subscription_json(s) for s in sorted(subscriber.subscriptions, key=lambda s: s.id)],
    }


def _filters() -> dict:
    return {"list_slug": str_arg("list", max_length=LIST_SLUG_MAX_LENGTH),
            "status": subscriber_directory.parse_status(request.args.get("status"))}


@bp.route("/subscribers")
@token_required(write=False)
def list_subscribers():
    only_query("q", "list", "status", "page", "per_page")
    page = int_arg("page", 1, minimum=1, maximum=MAX_PAGE)
    per_page = int_arg("per_page", 50, minimum=1, maximum=MAX_PAGE_SIZE)
    try:
        found = subscriber_directory.search(str_arg("q", max_length=SEARCH_MAX_LENGTH),
                                            page=page, per_page=per_page, **_filters())
    except InvalidInput as error:
        return invalid_fields({error.field: [error.message]})
    return {"items": [_subscriber_json(s) for s in found.items], "total": found.total,
            "page": found.page, "per_page": found.per_page}


@bp.route(f"/subscribers/<int(max={MAX_ROW_ID}):subscriber_id>")
@token_required(write=False)
def get_subscriber(subscriber_id: int):
    only_query()
    try:
        return _subscriber_json(subscriber_directory.get(subscriber_id))
    except NotFound as error:
        return problem(404, str(error))


# Authenticated by a bearer token in a header, which browsers never add on their
# own, so no cross-site page can forge this request: a CSRF token adds nothing.
@bp.route(f"/subscribers/<int(max={MAX_ROW_ID}):subscriber_id>/unsubscribe", methods=["POST"])
@csrf.exempt
@token_required(write=True)
def unsubscribe_subscriber(subscriber_id: int):
    only_query()
    body = json_object({"list": LIST_SLUG_MAX_LENGTH}, optional_body=True)
    try:
        left = subscriptions.unsubscribe_by_staff(subscriber_id, body.get("list") or None,
                                                  consent_origin("api"), g.api_actor)
    except NotFound as error:
        return problem(404, str(error))
    return {"unsubscribed_from": left}


@bp.route("/subscriptions.csv")
@token_required(write=False)
def export_subscriptions():
    only_query("list", "status")
    try:
        rows = subscriber_directory.export_rows(g.api_actor, **_filters())
    except InvalidInput as error:  # a status that does not exist
        return invalid_fields({error.field: [error.message]})
    return Response(stream_with_context(csv_lines(EXPORT_HEADER, rows)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="subscriptions.csv"'})
