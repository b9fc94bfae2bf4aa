"""`flask campaigns`: write, send and follow newsletters from the command line."""

from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from models import MailingList
from services.core.audit import CLI
from services.core.errors import DomainError, InvalidInput
from services.core.transactions import read_session
from services.newsletters import campaigns

campaigns_cli = AppGroup("campaigns", help="Newsletters: one issue of a list's newsletter each.")


def _fail(error: DomainError) -> click.ClickException:
    field = f"--{error.field.replace('_', '-')}: " if isinstance(error, InvalidInput) else ""
    return click.ClickException(f"{field}{getattr(error, 'message', str(error))}")


@campaigns_cli.command("create")
@click.option("--list", "list_slug", required=True, help="The list's slug.")
@click.option("--subject", required=True)
@click.option("--body", "body_file", type=click.File(encoding="utf-8"), required=True, help="The body, in Markdown.")
@click.option("--preheader", default="", help="The line inboxes show after the subject.")
def create_campaign(list_slug: str, subject: str, body_file, preheader: str) -> None:
    """Create a draft; prints its id."""
    list_id = read_session().scalar(select(MailingList.id).where(MailingList.slug == list_slug))
    if list_id is None:
        raise click.ClickException(f"--list: there is no list {list_slug!r}.")
    try:
        campaign = campaigns.create(CLI, campaigns.CampaignFields(list_id, subject, preheader, body_file.read()))
    except DomainError as error:
        raise _fail(error) from None
    click.echo(campaign.id)


@campaigns_cli.command("send")
@click.argument("campaign_id", type=int)
@click.option("--at", "send_at", help="When to send, ISO 8601 with its offset (e.g. 2026-12-24T08:00:00+01:00); "
                                      "default now.")
def send_campaign(campaign_id: int, send_at: str | None) -> None:
    """Send a draft now or at a set time (the worker sends it)."""
    try:
        at = datetime.fromisoformat(send_at) if send_at else None
    except ValueError:
        raise click.ClickException("--at: give a time such as 2026-12-24T08:00:00+00:00.") from None
    try:
        campaign = campaigns.send(CLI, campaign_id, at)
    except DomainError as error:
        raise _fail(error) from None
    click.echo(f"campaign {campaign.id} scheduled for {campaign.send_at.isoformat()}")


@campaigns_cli.command("show")
@click.argument("campaign_id", type=int)
def show_campaign(campaign_id: int) -> None:
    """A campaign's state and counts."""
    session = read_session()
    try:
        campaign = campaigns.get(session, campaign_id)
    except DomainError as error:
        raise _fail(error) from None
    figures = campaigns.progress(session, campaign)
    click.echo(f"campaign {campaign.id}: {campaign.subject}\nlist: {campaign.mailing_list.slug}\n"
               f"status: {campaign.status.value}\n"
               f"send at: {campaign.send_at.isoformat() if campaign.send_at else '-'}\n"
               f"recipients: {figures['recipients_count']}\nsent: {figures['sent_count']}\n"
               f"failed: {figures['failed_count']}\nskipped: {figures['skipped_count']}\n"
               f"waiting: {figures['waiting_count']}")


@campaigns_cli.command("list")
def list_campaigns() -> None:
    """Every campaign, newest first: id, status, list, subject."""
    for campaign in campaigns.newest_first(read_session()):
        click.echo(f"{campaign.id}\t{campaign.status.value}\t{campaign.mailing_list.slug}\t{campaign.subject}")
