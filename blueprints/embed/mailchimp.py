"""Mailchimp's own sign-up paths, so a publisher's Mailchimp snippet works with only its
host changed: the form post to /subscribe/post?u=…&id=… and the JSONP GET to
/subscribe/post-json?u=…&id=…&c=<callback> that Mailchimp's mc-validate.js (and the
jQuery plugins many sites use) make. `u` and `id` pick the list that carries that
Mailchimp audience; without one, the default list. Every guard of the embed post holds:
allowed origins (a script request sends only a Referer), the honeypot, the rate limits,
double opt-in, and one answer whatever the address's state."""

import re
from typing import TypeGuard

from flask import Response, request
from jinja2.utils import htmlsafe_json_dumps

from blueprints import cross_origin
from blueprints.embed import bp
from blueprints.embed.forms import EmbedForm, embed_formdata
from blueprints.limits import address_post_limit, address_rate_key, public_post_limit
from blueprints.requests import consent_origin
from extensions import limiter
from services.core.errors import InvalidInput
from services.core.origins import is_allowed, origin_of
from services.core.transactions import read_session
from services.subscriptions import lists, subscriptions

# A JavaScript name or dotted path (jQuery's are jQuery1234_5678), nothing that could be code.
CALLBACK = re.compile(r"[A-Za-z_$][\w$]{0,63}(?:\.[A-Za-z_$][\w$]{0,63}){0,3}")
RESERVED_WORDS = frozenset({"break", "case", "catch", "class", "const", "continue", "debugger", "default",
    "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for", "function", "if",
    "implements", "import", "in", "instanceof", "interface", "let", "new", "null", "package", "private",
    "protected", "public", "return", "static", "super", "switch", "this", "throw", "true", "try", "typeof",
    "var", "void", "while", "with", "yield", "await", "eval", "arguments"})
# mc-validate.js puts "<n> - message" beside form field n; 0 is EMAIL.
_FIELD_INDEX = {"email": 0}


def mailchimp_list_slug() -> str | None:
    """The list a Mailchimp action URL's `u` and `id` name, if one carries that audience."""
    return lists.slug_for_mailchimp_audience(read_session(), request.args.get("u"), request.args.get("id"))


def valid_callback(name: str | None) -> TypeGuard[str]:
    if not name:
        return False
    return CALLBACK.fullmatch(name) is not None and not (set(name.split(".")) & RESERVED_WORDS)


def _jsonp(callback: str, result: str, message: str, status: int = 200) -> Response:
    body = f"/**/{callback}({htmlsafe_json_dumps({'result': result, 'msg': message})});"
    response = Response(body, status=status, mimetype="application/javascript")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _refusal(message: str, status: int) -> Response:
    response = Response(message, status=status, mimetype="text/plain")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/subscribe/post-json")
@limiter.limit(public_post_limit)
@limiter.limit(address_post_limit, key_func=address_rate_key)
def mailchimp_jsonp():
    callback = request.args.get("c")
    if not valid_callback(callback):
        return _refusal("The callback name (c) must be a plain JavaScript name.", 400)
    # A <script> request carries no Origin header: its Referer names the page.
    if not is_allowed(origin_of(request.referrer), cross_origin.allowed_origins()):
        return _refusal("This site may not post sign-ups here.", 403)
    form = EmbedForm(formdata=embed_formdata(request.args, request.args))
    if form.filled_by_bot():
        return _jsonp(callback, "success", str(cross_origin.THANKS))  # a bot learns nothing
    if form.validate():
        source, utm = cross_origin.article_source(None, request.args)
        try:
            subscriptions.subscribe(form.email.data, form.full_name.data,
                                    consent_origin("mailchimp", source_url=source, utm=utm),
                                    list_slug=mailchimp_list_slug())
        except InvalidInput as error:
            field, messages = error.field, [error.message]
        else:
            return _jsonp(callback, "success", str(cross_origin.THANKS))
    else:
        field, messages = next(iter(form.errors.items()))
    index = _FIELD_INDEX.get(field)
    return _jsonp(callback, "error", f"{index} - {messages[0]}" if index is not None else messages[0])
