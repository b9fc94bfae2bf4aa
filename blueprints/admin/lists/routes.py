"""Creating and editing mailing lists."""

from flask import flash, redirect, render_template, url_for

from blueprints.admin import bp
from blueprints.admin.access import current_actor
from blueprints.admin.lists.forms import ListForm
from blueprints.form_errors import show_error
from services.console import dashboard
from services.core.errors import InvalidInput
from services.core.transactions import read_session
from services.subscriptions import lists


@bp.route("/lists", endpoint="lists")
def lists_index():
    return render_template("admin/lists.html", lists=lists.all_lists(read_session()),
                           counts={c.list_id: c for c in dashboard.status_counts(read_session())})


def _fields(form: ListForm) -> lists.ListFields:
    return lists.ListFields(name=form.name.data, slug=form.slug.data, description=form.description.data,
                            is_public=form.is_public.data, welcome_text=form.welcome_text.data,
                            mailchimp_account_id=form.mailchimp_account_id.data,
                            mailchimp_audience_id=form.mailchimp_audience_id.data,
                            language=form.language.data)


def _save(form: ListForm, save, mailing_list=None):
    if form.validate_on_submit():
        try:
            saved = save(_fields(form))
        except InvalidInput as error:
            show_error(form, error)
        else:
            flash(f"Saved the list {saved.name}.", "info")
            return redirect(url_for(".lists"), 303)
    status = 400 if form.errors else 200
    return render_template("admin/list_form.html", form=form, mailing_list=mailing_list), status


@bp.route("/lists/new", methods=["GET", "POST"])
def list_new():
    form = ListForm(data={"is_public": True})
    return _save(form, lambda fields: lists.create_list(current_actor(), fields))


@bp.route("/lists/<int:list_id>", methods=["GET", "POST"])
def list_edit(list_id):
    mailing_list = lists.get_list(read_session(), list_id)
    form = ListForm(obj=mailing_list)
    return _save(form, lambda fields: lists.update_list(current_actor(), list_id, fields), mailing_list)
