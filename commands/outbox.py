import click
from flask.cli import AppGroup

from services.mail.outbox_worker import drain, run_forever

outbox_cli = AppGroup("outbox", help="Deliver queued mail.")


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="Send everything due, then exit.")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between polls.")
def work(once: bool, poll: float) -> None:
    """Send queued mail (runs until stopped unless --once)."""
    if once:
        result = drain()
        click.echo(f"sent {result.sent}, failed attempts {result.failed_attempts}, "
                   f"given up {result.gave_up}, held back (suppressed) {result.held}")
        return
    run_forever(poll)
