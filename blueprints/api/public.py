"""Public API: sign-up from article pages (JSON with CORS), and the API's description."""

from flask import make_response, request

from blueprints import cross_origin
from blueprints.api import bp
from blueprints.api.openapi import document
from blueprints.api.problems import problem
from blueprints.api.requests import json_object, only_query
from blueprints.limits import address_post_limit, address_rate_key, public_post_limit
from blueprints.requests import consent_origin, wording_shown
from extensions import csrf, limiter
from services.core.languages import current_language
from services.core.origins import UTM_KEYS
from services.core.validation import (
    FULL_NAME_MAX_LENGTH,
    SOURCE_TITLE_MAX_LENGTH,
    clean_full_name,
    normalise_email,
)
from services.subscriptions import subscriptions
from services.subscriptions.consent import CURRENT_SUBSCRIBE_WORDING

SUBSCRIPTION_FIELDS = {"email": 254, "full_name": FULL_NAME_MAX_LENGTH, "list": 80, "source": 2000,
                       "source_title": SOURCE_TITLE_MAX_LENGTH, "website": 200, **dict.fromkeys(UTM_KEYS, 200)}
PREFLIGHT_MAX_AGE_SECONDS = 600


@bp.after_request
def cors_for_public_endpoints(response):
    if request.endpoint in {"api.create_subscription", "api.preflight_subscription"}:
        cross_origin.allow_cors(response)
    return response


# A JSON post from a script on an article page: no cookies of ours go with it, so a
# CSRF token cannot; the origin allow-list, honeypot, rate limits and double opt-in guard it.
@bp.route("/subscriptions", methods=["POST"], provide_automatic_options=False)
@csrf.exempt
@limiter.limit(public_post_limit)
@limiter.limit(address_post_limit, key_func=address_rate_key)
def create_subscription():
    if not cross_origin.origin_allowed():
        return problem(403, "This origin may not post sign-ups here.")
    only_query("lang")
    body = json_object(SUBSCRIPTION_FIELDS, required=("email",))
    accepted = make_response({"status": "accepted", "message": str(cross_origin.THANKS)}, 202)
    source, utm = cross_origin.article_source(body.get("source"), body, body.get("source_title"))
    if body.get("website"):
        # The honeypot: the answer a person with this input would get, and nothing stored.
        normalise_email(body["email"])
        clean_full_name(body.get("full_name"))
        return accepted
    subscriptions.subscribe(
        body["email"], body.get("full_name"),
        consent_origin("api", wording_version=wording_shown(CURRENT_SUBSCRIBE_WORDING)[0], source_url=source, utm=utm),
        list_slug=body.get("list") or None, language=current_language(),
    )
    return accepted


@bp.route("/subscriptions", methods=["OPTIONS"])
def preflight_subscription():
    """CORS preflight: only allowed origins learn that they may post JSON here."""
    if not cross_origin.origin_allowed():
        return problem(403, "This origin may not post sign-ups here.")
    response = make_response("", 204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    return response


@bp.route("/openapi.json")
def openapi():
    return document()
