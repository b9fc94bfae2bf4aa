import click
from flask.cli import AppGroup

from services.console import dashboard, maintenance
from services.core.transactions import read_session

maintenance_cli = AppGroup("maintenance", help="Housekeeping by hand (the worker's schedule runs it too).")


@maintenance_cli.command("purge")
def purge() -> None:
    """Delete long-pending subscriptions, old delivered mail, abandoned import uploads,
    ended staff sessions and old finished background jobs."""
    result = maintenance.purge()
    click.echo(f"removed {result.pending_subscriptions} pending subscriptions, {result.subscribers} subscribers, "
               f"{result.sent_mail} delivered mails, {result.abandoned_uploads} abandoned uploads, "
               f"{result.staff_sessions} ended staff sessions, {result.finished_jobs} finished jobs; "
               f"anonymised {result.consent_events_anonymised} consent events")


@maintenance_cli.command("refresh-dashboard")
def refresh_dashboard() -> None:
    """Recompute the dashboard's subscription figures now (the worker's schedule does
    so more often than DASHBOARD_CACHE_SECONDS, so no staff request waits for them)."""
    figures = dashboard.refresh_subscription_figures(read_session())
    click.echo(f"dashboard figures computed as of {figures.computed_at:%Y-%m-%d %H:%M:%S} UTC")
