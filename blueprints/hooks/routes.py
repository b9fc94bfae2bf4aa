from flask import jsonify, request

from blueprints.hooks import bp
from blueprints.limits import public_post_limit
from extensions import csrf, limiter
from services.mail import webhooks

# A provider's batch of events is small; anything larger is refused before it is read.
MAX_BODY_BYTES = 256 * 1024


@bp.post("/bounces/<provider>")
@csrf.exempt
@limiter.limit(public_post_limit)
def bounces(provider: str):
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return jsonify(error="The body is too large."), 413
    # Header names as the service looks them up: lower case, whatever case the provider sent.
    headers = {name.lower(): value for name, value in request.headers.items()}
    recorded = webhooks.receive(provider, headers, request.get_data(cache=False)[:MAX_BODY_BYTES + 1])
    return jsonify(recorded=recorded)
