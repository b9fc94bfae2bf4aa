"""Connecting other systems: API tokens (owners only) and the embed snippets."""

from flask import current_app, redirect, render_template, url_for
from wtforms.fields.choices import SelectChoice

from blueprints.admin import bp
from blueprints.admin.access import current_actor, flash_outcome, owner_required
from blueprints.admin.integrations.forms import ApiTokenForm
from blueprints.form_errors import show_error
from services.console import embed_snippets
from services.core.errors import InvalidInput, NotFound
from services.core.origins import normalise_origins
from services.core.transactions import read_session
from services.staff import api_tokens, staff
from services.subscriptions import subscriptions


@bp.route("/api-tokens", methods=["GET", "POST"])
@owner_required
def api_token_list():
    form = ApiTokenForm()
    form.owner.choices = [SelectChoice(u.email, u.email) for u in staff.staff_accounts(read_session()) if u.is_active]
    issued = None
    if form.validate_on_submit():
        try:
            issued = api_tokens.create(form.owner.data, api_tokens.parse_scope(form.scope.data),
                                       current_actor(), form.label.data)
        except InvalidInput as error:
            show_error(form, error)
        except NotFound as error:  # the account was disabled meanwhile
            form.owner.errors.append(str(error))
    # The new token is rendered into this answer only (never flashed: the session
    # cookie is signed, not encrypted), so it is shown once.
    return render_template("admin/api_tokens.html", form=form, issued=issued,
                           tokens=api_tokens.list_tokens()), 400 if form.errors else 200


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
@owner_required
def api_token_revoke(token_id):
    flash_outcome(lambda: api_tokens.revoke(token_id, current_actor()),
                  "The token is revoked; requests with it are refused from now on.")
    return redirect(url_for(".api_token_list"), 303)


@bp.route("/embed")
def embed_snippets_page():
    return render_template(
        "admin/embed.html",
        lists=[embed_snippets.snippets(m) for m in subscriptions.public_lists(read_session())],
        allowed_origins=normalise_origins(current_app.config["EMBED_ALLOWED_ORIGINS"]),
        base_url=current_app.config["BASE_URL"])
