import click
from flask.cli import AppGroup

from services.core.audit import CLI
from services.core.errors import InvalidInput, NotFound
from services.staff import api_tokens

api_tokens_cli = AppGroup("api-tokens", help="Bearer tokens for the staff JSON API.")


@api_tokens_cli.command("create")
@click.option("--staff", "staff_email", required=True, help="Email of the staff member the token acts for.")
@click.option("--scope", type=click.Choice(["read", "read-write"]), default="read", show_default=True)
@click.option("--label", default="", help="What the token is for, shown in listings.")
def create(staff_email: str, scope: str, label: str) -> None:
    """Make a token and print it once; only its hash is kept."""
    try:
        issued = api_tokens.create(staff_email, api_tokens.parse_scope(scope), CLI, label)
    except (NotFound, InvalidInput) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"API token {issued.id} ({issued.scope}) for {issued.owner_email}. "
               "Copy it now; it will not be shown again:")
    click.echo(issued.token)


@api_tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke a token by its id; requests with it are refused from now on."""
    try:
        api_tokens.revoke(token_id, CLI)
    except NotFound as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"API token {token_id} revoked")


@api_tokens_cli.command("list")
def list_tokens() -> None:
    """Every token: id, prefix, label, scope, owner, last use, revoked."""
    for row in api_tokens.list_tokens():
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never used"
        click.echo(f"{row.id}\t{row.prefix}…\t{row.label}\t{row.scope}\t{row.staff_user.email}\t{used}\t{state}")
