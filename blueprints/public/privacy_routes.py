"""Reader self-service privacy: ask for a link, then download or erase your data."""

from flask import current_app, redirect, render_template, url_for

from blueprints.form_errors import show_error
from blueprints.limits import address_post_limit, address_rate_key, public_post_limit
from blueprints.public import bp
from blueprints.public.forms import AddressForm, EraseForm
from extensions import limiter
from services.core.errors import InvalidInput
from services.privacy import reader_privacy

# The pages behind the link show personal data: no cache may keep them.
PRIVATE = {"Cache-Control": "no-store"}


@bp.route("/privacy", methods=["GET", "POST"])
@limiter.limit(public_post_limit, methods=["POST"])
@limiter.limit(address_post_limit, methods=["POST"], key_func=address_rate_key)
def privacy():
    form = AddressForm()
    if form.validate_on_submit():
        if form.filled_by_bot():
            return redirect(url_for(".privacy_sent"), 303)
        try:
            reader_privacy.request_link(form.email.data)
        except InvalidInput as error:
            show_error(form, error)
        else:
            return redirect(url_for(".privacy_sent"), 303)
    return render_template("public/privacy_request.html", form=form), 400 if form.errors else 200


@bp.route("/privacy/check-your-inbox")
def privacy_sent():
    return render_template("public/privacy_sent.html", hours=reader_privacy.link_hours())


def _link_page(token: str, form: EraseForm, status: int = 200):
    summary = reader_privacy.summary(token)
    return render_template("public/privacy_link.html", token=token, summary=summary, form=form), status, PRIVATE


@bp.route("/privacy/<token>")
def privacy_link(token):
    return _link_page(token, EraseForm())


@bp.route("/privacy/<token>/export.json")
def privacy_export(token):
    data = reader_privacy.export(token)
    return current_app.response_class(
        current_app.json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False), mimetype="application/json",
        headers={**PRIVATE, "Content-Disposition": 'attachment; filename="my-data.json"'},
    )


@bp.route("/privacy/<token>/erase", methods=["POST"])
@limiter.limit(public_post_limit)
def privacy_erase(token):
    form = EraseForm()
    if not form.validate_on_submit():
        return _link_page(token, form, 400)
    erased = reader_privacy.erase(token)
    return render_template("public/privacy_erased.html", erased=erased), 200, PRIVATE
