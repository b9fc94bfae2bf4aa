"""`flask bounces ingest`: one bounce or complaint report on standard input, piped in by
the MTA that receives mail for BOUNCE_ADDRESS (docs/deploy.md)."""

import logging
import sys

import click
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from services.mail import dsn

bounces_cli = AppGroup("bounces", help="Bounce and complaint reports.")
log = logging.getLogger(__name__)
# sysexits.h EX_TEMPFAIL: the MTA keeps the message and tries again later.
EX_TEMPFAIL = 75


@bounces_cli.command("ingest")
@click.option("--recipient", default=None, help="The address the report was delivered to (Postfix: ${recipient}).")
def ingest(recipient: str | None) -> None:
    """Read one DSN or ARF report from standard input and record what it says.

    Exits 0 for a report recorded, and for a message that is no report or names no mail
    of ours (the MTA must not retry those forever); 75 when the database cannot be reached,
    so that the MTA defers the message and delivers it again later."""
    raw = sys.stdin.buffer.read(dsn.MAX_REPORT_BYTES + 1)
    try:
        bounce = dsn.ingest(raw, recipient)
    except DBAPIError:
        log.exception("bounce report not recorded: the database is unavailable")
        sys.exit(EX_TEMPFAIL)
    except Exception:  # a malformed message: retrying it would fail the same way
        log.exception("bounce report not understood")
        bounce = None
    if bounce is None:
        click.echo("ignored: no bounce or complaint about a mail of ours")
    else:
        click.echo(f"recorded: {bounce.kind} for {bounce.address}")
