"""Hosted subscribe form, confirmation, unsubscribe and preferences, health."""

from flask import redirect, render_template, request, session, url_for
from sqlalchemy import text

from blueprints import cross_origin
from blueprints.errors import status_of
from blueprints.form_errors import show_error
from blueprints.limits import address_post_limit, address_rate_key, public_post_limit
from blueprints.public import bp
from blueprints.public.forms import HostedSubscribeForm, SubscribeForm
from blueprints.requests import consent_origin, wording_shown
from extensions import csrf, limiter
from services.core.errors import InvalidInput, InvalidToken
from services.core.languages import current_language
from services.core.transactions import read_session
from services.data import scheduled_backups
from services.subscriptions import subscriptions
from services.subscriptions.consent import CURRENT_SUBSCRIBE_WORDING


@bp.route("/")
def index():
    return redirect(url_for(".subscribe"))


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(public_post_limit, methods=["POST"])
@limiter.limit(address_post_limit, methods=["POST"], key_func=address_rate_key)
def subscribe():
    form = HostedSubscribeForm(list=request.args.get("list", ""), source=request.args.get("source", ""))
    wording_version, wording = wording_shown(CURRENT_SUBSCRIBE_WORDING)
    if form.validate_on_submit():
        # The next page repeats the address, so a typo shows; the same for every address.
        session[SIGNUP_ADDRESS] = form.email.data.strip()
        session[SIGNUP_ARTICLE] = form.source.data if cross_origin.is_article(form.source.data) else None
        if form.filled_by_bot():
            return redirect(url_for(".check_inbox"), 303)
        chosen = form.list.data
        try:
            subscriptions.subscribe(
                form.email.data, form.full_name.data,
                consent_origin("hosted", wording_version=wording_version, source_url=form.source.data or None),
                list_slug=chosen[0] if chosen else None, more_list_slugs=chosen[1:], language=current_language(),
            )
        except InvalidInput as error:
            show_error(form, error)
        else:
            return redirect(url_for(".check_inbox"), 303)
    status = 400 if form.errors else 200
    named, choices = subscriptions.offered_lists(read_session(), form.named_list())
    return render_template("public/subscribe.html", form=form, named=named, choices=choices,
                           wording=wording), status


SIGNUP_ADDRESS, SIGNUP_ARTICLE = "signup_address", "signup_article"


@bp.route("/subscribe/check-your-inbox")
def check_inbox():
    return render_template("public/check_inbox.html", address=session.get(SIGNUP_ADDRESS),
                           back=session.get(SIGNUP_ARTICLE))


# Which kind of mailed link each view serves: the bad-link page says what to do next.
LINK_KINDS = {"public.confirm": "confirm", "public.confirm_post": "confirm", "public.privacy_link": "privacy",
              "public.privacy_export": "privacy", "public.privacy_erase": "privacy"}


@bp.errorhandler(InvalidToken)
def bad_link(error: InvalidToken):
    what = LINK_KINDS.get(request.endpoint or "", "unsubscribe")
    return render_template("public/bad_link.html", message=str(error), what=what,
                           form=SubscribeForm()), status_of(error)


# The signed token in the URL is the authority for these POSTs, not a cookie,
# so they need no CSRF token: a mail client may open them in a fresh browser.
@bp.route("/confirm/<token>", methods=["GET"])
def confirm(token):
    subscriptions.check_confirm_link(token)
    return render_template("public/confirm.html", token=token)


@bp.route("/confirm/<token>", methods=["POST"])
@csrf.exempt
@limiter.limit(public_post_limit)
def confirm_post(token):
    outcome = subscriptions.confirm(token, consent_origin("confirm-link"))
    return render_template("public/confirmed.html", outcome=outcome)


@bp.route("/unsubscribe/<token>", methods=["GET"])
def unsubscribe(token):
    target, lists = subscriptions.preferences(token)
    current = next((p for p in lists if p.list_id == target.list_id), None)
    return render_template("public/unsubscribe.html", token=token, lists=lists, current=current,
                           address=target.email)


@bp.route("/unsubscribe/<token>", methods=["POST"])
@csrf.exempt
@limiter.limit(public_post_limit)
def unsubscribe_post(token):
    """RFC 8058 one-click: answers 200 with no redirect and needs no cookie."""
    list_name = subscriptions.unsubscribe(token, consent_origin("unsubscribe-link"))
    return render_template("public/unsubscribed.html", list_name=list_name, token=token)


@bp.route("/preferences/<token>", methods=["POST"])
@csrf.exempt
@limiter.limit(public_post_limit)
def preferences_post(token):
    wanted = {int(v) for v in request.form.getlist("lists") if v.isdigit()}
    subscriptions.update_preferences(token, wanted, consent_origin("preferences"))
    _, lists = subscriptions.preferences(token)
    return render_template("public/preferences_saved.html", lists=lists, token=token)


@bp.route("/healthz")
def healthz():
    try:
        database = read_session()
        database.execute(text("SELECT 1"))
        last_backup = scheduled_backups.last_run(database)
    except Exception:
        read_session().rollback()
        return {"status": "unavailable", "database": "down"}, 503
    # A failed backup shows here for monitoring, but the status stays 200: this process still
    # serves, and a load balancer that took it out of rotation would make an outage of it.
    backup = {"last": last_backup.finished_at.isoformat(), "ok": last_backup.ok} if last_backup \
        else {"last": None, "ok": None}
    return {"status": "ok", "database": "up", "backup": backup}
