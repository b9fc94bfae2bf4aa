"""The suppression list: search it, add an address with a note, remove one (owners only),
download it as CSV."""

from flask import Response, flash, redirect, render_template, request, url_for

from blueprints.admin import bp
from blueprints.admin.access import current_actor, flash_outcome, is_owner, owner_required
from blueprints.admin.suppressions.forms import SuppressionAddForm, SuppressionSearchForm
from blueprints.form_errors import show_error
from models import SuppressionReason
from services.console import suppression_admin
from services.core.errors import InvalidInput
from services.core.transactions import read_session
from services.mail import suppression


def _list_page(add_form: SuppressionAddForm, status: int = 200):
    search_form = SuppressionSearchForm(request.args)
    query = search_form.q.data if search_form.validate() else ""
    page = suppression.search(read_session(), query or "", request.args.get("after"))
    next_args = {**request.args.to_dict(), "after": page.next_cursor} if page.next_cursor else None
    return render_template("admin/suppressions.html", search_form=search_form, add_form=add_form, page=page,
                           next_args=next_args, reasons=SuppressionReason, can_remove=is_owner()), status


@bp.route("/suppressions")
def suppressions():
    return _list_page(SuppressionAddForm(formdata=None))


@bp.route("/suppressions", methods=["POST"])
def suppressions_add():
    form = SuppressionAddForm()
    if form.validate_on_submit():
        try:
            added = suppression_admin.add(current_actor(), form.email.data, form.note.data or "")
        except InvalidInput as error:
            show_error(form, error)
        else:
            flash("The address is suppressed: it will not be mailed again." if added
                  else "That address was already suppressed; its first reason stays.", "info")
            return redirect(url_for(".suppressions"), 303)
    return _list_page(form, 400)


@bp.route("/suppressions/remove", methods=["POST"])
@owner_required
def suppressions_remove():
    flash_outcome(lambda: suppression_admin.remove(current_actor(), request.form.get("address", "")),
                  "The address is off the suppression list: it may be mailed again.")
    return redirect(url_for(".suppressions"), 303)


@bp.route("/suppressions/export.csv")
def suppressions_export():
    stream = suppression_admin.export(current_actor(), bom=request.args.get("bom") == "1")
    response = Response(stream, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{suppression_admin.export_filename()}"'
    return response
