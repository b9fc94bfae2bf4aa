import click
from flask.cli import AppGroup

from services.core.errors import DomainError
from services.core.transactions import database_engine
from services.data import backup, restore

data_cli = AppGroup("data", help="Back up, restore, and move the database to another.")


def _sizes(byte_count: int) -> str:
    return f"{byte_count / 2**20:.1f} MiB" if byte_count >= 2**20 else f"{byte_count} bytes"


@data_cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
def backup_command(file: str) -> None:
    """Write a consistent backup of the whole database to FILE (a new file), while the
    service keeps running."""
    try:
        result = backup.write_backup(database_engine(), file)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up {result.rows} rows in {len(result.manifest['tables'])} tables "
               f"(schema {result.manifest['schema_revision']}) to {result.path}, {_sizes(result.size_bytes)}")


@data_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace the data of a database that is not empty.")
def restore_command(file: str, force: bool) -> None:
    """Load the backup FILE into the current database (DATABASE_URL), which must be empty.
    Stop the web and the worker first."""
    try:
        loaded = restore.restore(file, force=force)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored {loaded.rows} rows in {len(loaded.counts)} tables (schema {loaded.revision}); "
               "every table's count matches the backup's manifest")


@data_cli.command("move")
@click.option("--to", "url", required=True, metavar="DATABASE_URL",
              help="The empty database to copy into, e.g. postgresql://user@host/roster.")
def move_command(url: str) -> None:
    """Copy every table of the current database into an empty one (SQLite to PostgreSQL, or
    back). Stop the web and the worker first; then point DATABASE_URL at the target."""
    try:
        loaded = restore.move(url)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"moved {loaded.rows} rows in {len(loaded.counts)} tables (schema {loaded.revision}); "
               "every table's count matches the source's. Now point DATABASE_URL at the target.")
