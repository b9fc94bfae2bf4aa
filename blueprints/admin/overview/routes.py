"""Dashboard, outbox and audit log pages."""

from flask import redirect, render_template, request, url_for

from blueprints.admin import bp
from blueprints.admin.access import current_actor, flash_outcome
from models import OutboxStatus
from services.console import dashboard as figures
from services.core import audit
from services.core.transactions import read_session
from services.mail import outbox_admin


@bp.route("/")
def dashboard():
    session = read_session()
    subscriptions = figures.subscription_figures(session)
    return render_template(
        "admin/dashboard.html",
        status_counts=subscriptions.status_counts,
        days=subscriptions.days,
        busiest_day=max((d.count for d in subscriptions.days), default=0),
        sources=subscriptions.sources,
        figures_as_of=subscriptions.computed_at,
        outbox=figures.outbox_health(session),
        deliverability=figures.deliverability(session),
        cohorts=figures.open_cohorts(session),
    )


@bp.route("/outbox")
def outbox():
    status = request.args.get("status", "")
    chosen = OutboxStatus(status) if status in outbox_admin.ACTIONABLE else None
    page = outbox_admin.waiting_messages(read_session(), chosen, request.args.get("after"))
    return render_template("admin/outbox.html", page=page, status=status,
                           statuses=outbox_admin.ACTIONABLE)


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
def outbox_retry(message_id):
    flash_outcome(lambda: outbox_admin.retry(current_actor(), message_id),
                  "The message is queued and will be sent on the next worker pass.")
    return redirect(url_for(".outbox"), 303)


@bp.route("/outbox/<int:message_id>/discard", methods=["POST"])
def outbox_discard(message_id):
    flash_outcome(lambda: outbox_admin.discard(current_actor(), message_id), "The message was discarded.")
    return redirect(url_for(".outbox"), 303)


@bp.route("/audit")
def audit_log():
    return render_template("admin/audit.html", page=audit.newest_first(read_session(), request.args.get("after")))
