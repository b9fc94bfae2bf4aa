"""Finding subscribers, one subscriber's record, and the actions staff take on them."""

from urllib.parse import parse_qsl, urlencode

from flask import flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from blueprints.admin import bp
from blueprints.admin.access import current_actor, flash_outcome
from blueprints.admin.subscribers.forms import SubscriberFilterForm
from models import SubscriptionStatus
from services.console import dashboard, subscriber_admin
from services.console.subscriber_admin import SubscriberFilter
from services.core.transactions import read_session
from services.privacy import privacy
from services.subscriptions import lists


def _filters(form: SubscriberFilterForm) -> SubscriberFilter:
    valid = form.validate()  # invalid values are shown beside their field and ignored
    data = form.data if valid else {k: v for k, v in form.data.items() if not form[k].errors}
    return SubscriberFilter(
        query=data.get("q") or "",
        list_id=int(data["list"]) if (data.get("list") or "").isdigit() else None,
        status=SubscriptionStatus(data["status"]) if data.get("status") else None,
        source=(data.get("source") or "").strip(),
        since=data.get("since"),
        until=data.get("until"),
    )


@bp.route("/subscribers")
def subscribers():
    form = SubscriberFilterForm(request.args)
    all_lists = lists.all_lists(read_session())
    form.list.choices = [SelectChoice("", "Any list")] + [SelectChoice(str(m.id), m.name) for m in all_lists]
    filters = _filters(form)
    page = subscriber_admin.search(read_session(), filters, request.args.get("after"))
    next_args = {**request.args.to_dict(), "after": page.next_cursor} if page.next_cursor else None
    # The CSV download carries the filters the export has: list and status.
    export_args = {"list": next((m.slug for m in all_lists if m.id == filters.list_id), None),
                   "status": filters.status.value if filters.status else None}
    source_title = dashboard.article_titles(read_session(), [filters.source]).get(filters.source)
    return render_template("admin/subscribers.html", form=form, page=page, next_args=next_args,
                           export_args=export_args, lists=all_lists, source=filters.source,
                           source_title=source_title)


def _selected_ids() -> list[int]:
    return [int(v) for v in request.form.getlist("subscriber") if v.isdigit()]


def _back_to_list():
    # The list page's own query string, carried by the form, keeps the filters;
    # re-encoded so that nothing but query parameters can come from the form.
    query = parse_qsl(request.form.get("return_query", ""))
    return redirect(url_for(".subscribers") + ("?" + urlencode(query) if query else ""), 303)


@bp.route("/subscribers/bulk", methods=["POST"])
def subscribers_bulk():
    action, ids = request.form.get("action"), _selected_ids()
    if action == "unsubscribe":
        flash_outcome(lambda: subscriber_admin.unsubscribe(current_actor(), ids),
                      lambda ended: f"Unsubscribed the selected people: {len(ended)} subscriptions ended.")
    elif action == "erase" and request.form.get("confirm_erase") != "yes":
        flash("Tick the box to confirm erasure: it cannot be undone.", "error")
    elif action == "erase":
        flash_outcome(lambda: privacy.erase(current_actor(), subscriber_admin.selection(ids)),
                      lambda erased: f"Erased {erased} subscribers.")
    else:
        flash("Choose an action.", "error")
    return _back_to_list()


@bp.route("/subscribers/<int:subscriber_id>")
def subscriber(subscriber_id):
    record = subscriber_admin.record(read_session(), subscriber_id)
    return render_template("admin/subscriber.html", record=record)


@bp.route("/subscribers/<int:subscriber_id>/unsubscribe", methods=["POST"])
def subscriber_unsubscribe(subscriber_id):
    list_id = request.form.get("list_id", "")
    flash_outcome(lambda: subscriber_admin.unsubscribe(
        current_actor(), [subscriber_id], int(list_id) if list_id.isdigit() else None),
        "Unsubscribed.")
    return redirect(url_for(".subscriber", subscriber_id=subscriber_id), 303)


@bp.route("/subscribers/<int:subscriber_id>/resend", methods=["POST"])
def subscriber_resend(subscriber_id):
    list_id = request.form.get("list_id", "")
    flash_outcome(lambda: subscriber_admin.resend_confirmation(
        current_actor(), subscriber_id, int(list_id) if list_id.isdigit() else 0),
                  "The confirmation mail is queued.")
    return redirect(url_for(".subscriber", subscriber_id=subscriber_id), 303)


@bp.route("/subscribers/<int:subscriber_id>/erase", methods=["POST"])
def subscriber_erase(subscriber_id):
    if request.form.get("confirm_erase") != "yes":
        flash("Tick the box to confirm erasure: it cannot be undone.", "error")
        return redirect(url_for(".subscriber", subscriber_id=subscriber_id), 303)
    flash_outcome(lambda: privacy.erase(current_actor(), [subscriber_id]), "The subscriber was erased.")
    return redirect(url_for(".subscribers"), 303)
