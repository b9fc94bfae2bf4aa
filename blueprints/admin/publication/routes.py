"""The publication settings page: what readers see on every page and mail."""

from dataclasses import asdict

from flask import flash, redirect, render_template, url_for

from blueprints.admin import bp
from blueprints.admin.access import current_actor, owner_required
from blueprints.admin.publication.forms import PublicationForm
from blueprints.form_errors import show_error
from services.core import publication
from services.core.errors import InvalidInput
from services.core.transactions import read_session


@bp.route("/publication", methods=["GET", "POST"])
@owner_required
def publication_settings():
    form = PublicationForm(data=asdict(publication.stored_fields(read_session())))
    if form.validate_on_submit():
        upload = form.logo.data.read(publication.LOGO_MAX_BYTES + 1) if form.logo.data else None
        try:
            publication.save(current_actor(), publication.PublicationFields(
                name=form.name.data, site_url=form.site_url.data, sender_name=form.sender_name.data,
                postal_address=form.postal_address.data, accent_colour=form.accent_colour.data,
            ), logo_upload=upload, remove_logo=form.remove_logo.data)
        except InvalidInput as error:
            show_error(form, error)
        else:
            flash("Saved the publication settings.", "info")
            return redirect(url_for(".publication_settings"), 303)
    status = 400 if form.errors else 200
    return render_template("admin/publication.html", form=form, current=publication.current()), status
