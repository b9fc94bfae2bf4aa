import click
from flask.cli import AppGroup

from services import maintenance

maintenance_cli = AppGroup("maintenance", help="Housekeeping, safe to run from cron.")


@maintenance_cli.command("purge")
def purge() -> None:
    """Delete long-pending subscriptions and old delivered mail."""
    result = maintenance.purge()
    click.echo(f"removed {result.pending_subscriptions} pending subscriptions, {result.subscribers} subscribers, "
               f"{result.sent_mail} delivered mails; anonymised {result.consent_events_anonymised} consent events")
