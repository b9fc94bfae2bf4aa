"""Newsletters in the console: write a campaign, preview it as it will be sent, send a
test, send it now or at a set time, follow it, pause, resume or cancel it."""

from datetime import UTC

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.admin import bp
from blueprints.admin.access import current_actor, flash_outcome
from blueprints.admin.newsletters.forms import CampaignForm, SendForm
from blueprints.form_errors import show_error
from services.core.errors import InvalidInput
from services.core.transactions import read_session
from services.newsletters import campaigns, mail
from services.subscriptions import lists

# The preview is the mail itself, framed by the campaign's page only: its inline styles
# apply, nothing in it runs, and it can neither navigate the console nor post anywhere.
PREVIEW_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
                  "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox")
PREVIEW_WIDTHS = {"desktop": "Desktop", "phone": "Phone (390 px)"}
PREVIEW_SCHEMES = {"light": "Light", "dark": "Dark"}


@bp.route("/newsletters", endpoint="newsletters")
def newsletters_index():
    session = read_session()
    found = campaigns.newest_first(session)
    return render_template("admin/newsletters.html", campaigns=found,
                           figures={c.id: campaigns.progress(session, c) for c in found})


def _campaign_form(campaign=None) -> CampaignForm:
    form = CampaignForm(obj=campaign)
    form.list_id.choices = [(m.id, f"{m.name} ({'public' if m.is_public else 'private'})")
                            for m in lists.all_lists(read_session())]
    return form


def _fields(form: CampaignForm) -> campaigns.CampaignFields:
    return campaigns.CampaignFields(form.list_id.data, form.subject.data, form.preheader.data,
                                    form.body_markdown.data)


@bp.route("/newsletters/new", methods=["GET", "POST"])
def newsletter_new():
    form = _campaign_form()
    if form.validate_on_submit():
        try:
            campaign = campaigns.create(current_actor(), _fields(form))
        except InvalidInput as error:
            show_error(form, error)
        else:
            flash("Saved the draft.", "info")
            return redirect(url_for(".newsletter", campaign_id=campaign.id), 303)
    return render_template("admin/newsletter_form.html", form=form), 400 if form.errors else 200


@bp.route("/newsletters/<int:campaign_id>", methods=["GET", "POST"])
def newsletter(campaign_id: int):
    session = read_session()
    campaign = campaigns.get(session, campaign_id)
    form = _campaign_form(campaign) if campaign.status in campaigns.EDITABLE else None
    if request.method == "POST":
        if form is None:
            abort(409)
        if form.validate_on_submit():
            try:
                campaigns.update(current_actor(), campaign_id, _fields(form))
            except InvalidInput as error:
                show_error(form, error)
            else:
                flash("Saved the draft.", "info")
                return redirect(url_for(".newsletter", campaign_id=campaign_id), 303)
    width = request.args.get("view") if request.args.get("view") in PREVIEW_WIDTHS else "desktop"
    scheme = request.args.get("scheme") if request.args.get("scheme") in PREVIEW_SCHEMES else "light"
    return render_template(
        "admin/newsletter.html", campaign=campaign, form=form, send_form=SendForm(),
        figures=campaigns.progress(session, campaign), archive_url=mail.archive_url(campaign),
        width=width, scheme=scheme, widths=PREVIEW_WIDTHS, schemes=PREVIEW_SCHEMES,
    ), 400 if form is not None and form.errors else 200


@bp.route("/newsletters/<int:campaign_id>/preview.html")
def newsletter_preview(campaign_id: int):
    campaign = campaigns.get(read_session(), campaign_id)
    html = mail.preview_html(campaign, dark=request.args.get("scheme") == "dark")
    return html, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": PREVIEW_POLICY,
                       "X-Frame-Options": "SAMEORIGIN"}


@bp.route("/newsletters/<int:campaign_id>/send", methods=["POST"])
def newsletter_send(campaign_id: int):
    form = SendForm()
    if not form.validate_on_submit():
        flash("Give the time as a date and a time of day.", "error")
    else:
        at = form.send_at.data.replace(tzinfo=UTC) if form.send_at.data else None
        flash_outcome(lambda: campaigns.send(current_actor(), campaign_id, at),
                      lambda sent: f"Scheduled for {sent.send_at:%Y-%m-%d %H:%M} UTC." if at
                      else "Sending: the worker starts in a moment.")
    return redirect(url_for(".newsletter", campaign_id=campaign_id), 303)


CHANGED = {"pause": "Paused.", "resume": "Sending again.", "cancel": "Cancelled."}


def newsletter_change(campaign_id: int, action: str):
    flash_outcome(lambda: campaigns.change(current_actor(), campaign_id, action), CHANGED[action])
    return redirect(url_for(".newsletter", campaign_id=campaign_id), 303)


for _action in CHANGED:  # admin.newsletter_pause, admin.newsletter_resume, admin.newsletter_cancel
    bp.add_url_rule(f"/newsletters/<int:campaign_id>/{_action}", f"newsletter_{_action}", newsletter_change,
                    methods=["POST"], defaults={"action": _action})


@bp.route("/newsletters/<int:campaign_id>/test", methods=["POST"])
def newsletter_test(campaign_id: int):
    flash_outcome(lambda: campaigns.send_test(current_actor(), campaign_id, current_user.email),
                  f"A test is on its way to {current_user.email}.")
    return redirect(url_for(".newsletter", campaign_id=campaign_id), 303)
