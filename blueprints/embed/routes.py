"""Sign-up from article pages on other sites: form post (also Mailchimp's field
names), an iframe form and a script widget."""

from flask import make_response, redirect, render_template, request
from flask_babel import gettext

from blueprints import cross_origin
from blueprints.api.problems import invalid_fields, problem
from blueprints.embed import bp
from blueprints.embed.forms import EmbedForm, embed_formdata, is_mailchimp
from blueprints.embed.mailchimp import mailchimp_list_slug
from blueprints.errors import error_page
from blueprints.form_errors import show_error
from blueprints.limits import address_post_limit, address_rate_key, public_post_limit
from blueprints.requests import consent_origin, wants_json, wording_shown
from blueprints.security_headers import content_security_policy
from extensions import csrf, limiter
from services.core.errors import InvalidInput
from services.core.languages import current_language, shipped
from services.core.links import external_url
from services.core.origins import is_allowed, origin_of, safe_next
from services.core.validation import SOURCE_TITLE_MAX_LENGTH, clean_source_title
from services.subscriptions import subscriptions
from services.subscriptions.consent import CURRENT_SUBSCRIBE_WORDING


@bp.after_request
def embed_content_security_policy(response):
    """Our embed pages may be framed by the article sites, and by nothing else. Their
    forms post to Roster (BASE_URL); the article sites are form targets too, because
    a sign-up's `next` redirect goes back there and browsers check redirects after a
    form post against form-action."""
    allowed = cross_origin.allowed_origins()
    response.headers["Content-Security-Policy"] = content_security_policy(
        form_action=" ".join(allowed), frame_ancestors=" ".join(["'self'", *allowed]))
    return response


def _render_form(form: EmbedForm, *, framed: bool, status: int = 200):
    return render_template("embed/form.html", form=form, framed=framed,
                           wording=wording_shown(CURRENT_SUBSCRIBE_WORDING)[1]), status


# Cross-site posts carry no cookies of ours, so a CSRF token cannot work here; the
# origin allow-list, the honeypot, the rate limits and double opt-in guard it instead.
@bp.route("/embed/subscribe", methods=["POST"])
@csrf.exempt
@limiter.limit(public_post_limit)
@limiter.limit(address_post_limit, key_func=address_rate_key)
def subscribe():
    if not cross_origin.origin_allowed():
        if wants_json():
            return problem(403, gettext("This site may not post sign-ups here."))
        return error_page(403, gettext("This form was sent from a site that may not post sign-ups here."))
    mailchimp = is_mailchimp(request.form)
    form = EmbedForm(formdata=embed_formdata(request.form, request.args))
    if mailchimp and (audience_list := mailchimp_list_slug()):
        form.list.data = audience_list
    framed = form.view.data == "frame"
    source, utm = cross_origin.article_source(form.source.data, request.form, form.source_title.data)
    if form.validate() and not form.filled_by_bot():
        try:
            subscriptions.subscribe(
                form.email.data, form.full_name.data,
                consent_origin("mailchimp" if mailchimp else "embed", source_url=source, utm=utm,
                               wording_version=None if mailchimp else wording_shown(CURRENT_SUBSCRIBE_WORDING)[0]),
                list_slug=form.list.data or None, language=current_language(),
            )
        except InvalidInput as error:
            show_error(form, error)
    if form.errors and not form.filled_by_bot():
        if wants_json():
            return cross_origin.allow_cors(invalid_fields(form.errors))
        return _render_form(form, framed=framed, status=400)
    # A filled honeypot gets the same answer as a person, so a bot learns nothing.
    if wants_json():
        return cross_origin.allow_cors(make_response({"status": "accepted", "message": str(cross_origin.THANKS)}, 202))
    next_url = safe_next(form.next.data, cross_origin.allowed_origins())
    if next_url:
        return redirect(next_url, 303)
    back = source if is_allowed(origin_of(source), cross_origin.allowed_origins()) else None
    return render_template("embed/thanks.html", framed=framed, back=back, message=str(cross_origin.THANKS))


# Mailchimp's own path, so a Mailchimp form works with only its host changed (mailchimp.py).
bp.add_url_rule("/subscribe/post", "mailchimp_post", subscribe, methods=["POST"])


@bp.route("/embed/form")
def form():
    """A compact form for an iframe on an article page; needs no cookies."""
    embed_form = EmbedForm(formdata=None, list=request.args.get("list", ""), view="frame")
    embed_form.source.data = cross_origin.article_url(request.args.get("source"))
    embed_form.source_title.data = clean_source_title(request.args.get("source_title"))
    return _render_form(embed_form, framed=True)


@bp.route("/embed.js")
def script():
    # A script asked for in a language posts in it (else the reader's browser says which).
    chosen = {"lang": language} if (language := shipped(request.args.get("lang"))) else {}
    response = make_response(render_template(
        "embed/embed.js", wording=wording_shown(CURRENT_SUBSCRIBE_WORDING)[1], thanks=str(cross_origin.THANKS),
        api_url=external_url("api.create_subscription", **chosen),
        action_url=external_url("embed.subscribe", **chosen), title_max_length=SOURCE_TITLE_MAX_LENGTH))
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
