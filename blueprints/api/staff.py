"""Staff API: subscribers for people and programs holding an API token, served by
the same services as the staff console (search, record, unsubscribe, export)."""

from flask import Response, g, request

from blueprints.api import bp
from blueprints.api.auth import token_required
from blueprints.api.requests import (
    CURSOR_MAX_LENGTH,
    MAX_PAGE_SIZE,
    MAX_ROW_ID,
    SEARCH_MAX_LENGTH,
    int_arg,
    json_object,
    only_query,
    str_arg,
)
from extensions import csrf
from models import Subscriber, Subscription, SubscriptionStatus
from services.console import subscriber_admin
from services.console.subscriber_admin import SubscriberFilter
from services.core.errors import InvalidInput, NotFound
from services.core.pagination import DEFAULT_PAGE_SIZE
from services.core.transactions import read_session
from services.core.validation import storable
from services.data import exports
from services.data.exports import SubscriberFilters
from services.subscriptions import lists
from services.subscriptions.lists import SLUG_MAX_LENGTH


def _subscription_json(subscription: Subscription) -> dict:
    return {
        "list": subscription.mailing_list.slug, "status": subscription.status.value,
        "created_at": subscription.created_at.isoformat(),
        "confirmed_at": subscription.confirmed_at.isoformat() if subscription.confirmed_at else None,
        "unsubscribed_at": subscription.unsubscribed_at.isoformat() if subscription.unsubscribed_at else None,
        "source_url": subscription.source_url, "utm": subscription.utm,
    }


def _subscriber_json(subscriber: Subscriber, held: list[Subscription]) -> dict:
    return {
        "id": subscriber.id, "email": subscriber.email, "full_name": subscriber.full_name,
        "created_at": subscriber.created_at.isoformat(),
        "subscriptions": [_subscription_json(s) for s in held],
    }


def _status_arg() -> SubscriptionStatus | None:
    raw = request.args.get("status")
    try:  # present but empty is not "any status": the schema allows only its values
        return SubscriptionStatus(raw) if raw is not None else None
    except ValueError:
        raise InvalidInput("status", "Status must be pending, confirmed or unsubscribed.") from None


def _search_filter() -> SubscriberFilter | None:
    """The console's filter for these query parameters; None when they can match no one
    (an unknown list, or text holding a character no stored value can)."""
    text = str_arg("q", max_length=SEARCH_MAX_LENGTH) or ""
    slug = str_arg("list", max_length=SLUG_MAX_LENGTH)
    status = _status_arg()
    if not storable(text):
        return None
    try:
        list_id = lists.list_by_slug(read_session(), slug).id if slug else None
    except NotFound:
        return None
    return SubscriberFilter(query=text, list_id=list_id, status=status)


@bp.route("/subscribers")
@token_required(write=False)
def list_subscribers():
    only_query("q", "list", "status", "after", "limit")
    limit = int_arg("limit", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    after = str_arg("after", max_length=CURSOR_MAX_LENGTH)
    filters = _search_filter()
    if filters is None:
        return {"items": [], "next_cursor": None}
    page = subscriber_admin.search(read_session(), filters, after, size=limit)
    return {"items": [_subscriber_json(row.subscriber, row.subscriptions) for row in page.items],
            "next_cursor": page.next_cursor}


@bp.route(f"/subscribers/<int(max={MAX_ROW_ID}):subscriber_id>")
@token_required(write=False)
def get_subscriber(subscriber_id: int):
    only_query()
    record = subscriber_admin.record(read_session(), subscriber_id)
    return _subscriber_json(record.subscriber, record.subscriptions)


# Authenticated by a bearer token in a header, which browsers never add on their
# own, so no cross-site page can forge this request: a CSRF token adds nothing.
@bp.route(f"/subscribers/<int(max={MAX_ROW_ID}):subscriber_id>/unsubscribe", methods=["POST"])
@csrf.exempt
@token_required(write=True)
def unsubscribe_subscriber(subscriber_id: int):
    only_query()
    slug = json_object({"list": SLUG_MAX_LENGTH}, optional_body=True).get("list")
    list_id = lists.list_by_slug(read_session(), slug).id if slug else None
    ended = subscriber_admin.unsubscribe(g.api_actor, [subscriber_id], list_id)
    return {"unsubscribed_from": [list_slug for _, list_slug in ended]}


@bp.route("/subscriptions.csv")
@token_required(write=False)
def export_subscriptions():
    """The console's and the CLI's export: the same columns, escaping and audit."""
    only_query("list", "status")
    filters = SubscriberFilters(str_arg("list", max_length=SLUG_MAX_LENGTH), tuple(request.args.getlist("status")))
    stream = exports.export_subscribers(filters, g.api_actor)
    return Response(stream, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{exports.export_filename(filters)}"'})
