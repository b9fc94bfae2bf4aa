import sys

import click
from flask.cli import AppGroup

from models import StaffRole
from services.core.audit import CLI
from services.core.errors import InvalidInput, NotFound
from services.core.transactions import read_session
from services.staff import staff

admin_cli = AppGroup("admin", help="Staff accounts.")


def _new_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@admin_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]),
              help="Default: owner for the first account, editor after that.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create(email: str, role: str | None, password_stdin: bool) -> None:
    """Create a staff account; prompts for the password unless --password-stdin."""
    password = _new_password(password_stdin)
    if role is None:
        role = StaffRole.OWNER if staff.count_staff(read_session()) == 0 else StaffRole.EDITOR
    try:
        user = staff.create_staff(CLI, email, password, StaffRole(role))
    except InvalidInput as error:
        raise click.ClickException(f"{error.field}: {error.message}") from None
    click.echo(f"created {user.role.value} {user.email}")


@admin_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(email: str, password_stdin: bool) -> None:
    """Set a staff member's password (a forgotten one) and lift any lockout; their
    browsers are signed out."""
    try:
        user = staff.reset_password(CLI, email, _new_password(password_stdin))
    except (InvalidInput, NotFound) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"password set for {user.email}")
