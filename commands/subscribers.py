import click
from flask.cli import AppGroup

from services.core.audit import CLI
from services.core.errors import InvalidInput
from services.data import import_steps, imports
from services.data.exports import STATUSES, SubscriberFilters, export_subscribers

subscribers_cli = AppGroup("subscribers", help="Export and import subscribers.")


@subscribers_cli.command("export")
@click.option("--list", "list_slug", help="Only this list (its slug); default every list.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES),
              help="Only these statuses (repeatable); default every status.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="File to write; default stdout.")
@click.option("--bom", is_flag=True, help="Start with a UTF-8 byte order mark (for Excel).")
def export(list_slug: str | None, statuses: tuple[str, ...], output: str | None, bom: bool) -> None:
    """Write subscriptions as CSV (Mailchimp's columns), streamed."""
    try:
        stream = export_subscribers(SubscriberFilters(list_slug, statuses), CLI, bom=bom)
    except InvalidInput as error:
        raise click.UsageError(error.message) from None
    try:
        with click.open_file(output or "-", "wb") as target:
            for chunk in stream:
                target.write(chunk)
    finally:
        stream.close()
    if output:
        click.echo(f"exported {stream.rows_written} rows to {output}", err=True)


def _parse_map(value: str | None) -> dict[str, str]:
    if not value:
        return {}
    pairs = [item.split("=", 1) for item in value.split(",")]
    if any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
        raise click.BadParameter("use field=COLUMN pairs, e.g. email=E-mail,full_name=Name", param_hint="--map")
    return {field.strip(): column.strip() for field, column in pairs}


@subscribers_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--list", "list_slug", help="List to import into (its slug); default the default list.")
@click.option("--dry-run", is_flag=True, help="Check the file and show counts; write nothing.")
@click.option("--map", "column_map", help="Columns of a plain CSV: email=COL[,full_name=COL,…].")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the invalid rows to this CSV file.")
@click.option("--queue", is_flag=True, help="Queue the import for `flask worker` and print the job's id.")
def import_(file: str, list_slug: str | None, dry_run: bool, column_map: str | None, errors_path: str | None,
            queue: bool) -> None:
    """Import a Mailchimp export (zip or CSV), a listmonk export or a mapped CSV. Nobody is mailed."""
    mapping = _parse_map(column_map)
    try:
        if dry_run:
            _show_dry_run(imports.dry_run(file, column_map=mapping))
            return
        if queue:
            import_job_id, job_id = import_steps.queue_import(file, CLI, list_slug=list_slug, column_map=mapping)
            click.echo(f"queued job {job_id} (import {import_job_id}); `flask jobs` shows its progress")
            return
        job = imports.run_import(imports.create_job(file, CLI, list_slug=list_slug, column_map=mapping))
    except InvalidInput as error:
        columns = getattr(error, "columns", None)
        hint = f"\ncolumns: {', '.join(columns)} (map them with --map email=COLUMN)" if columns else ""
        raise click.ClickException(error.message + hint) from None
    click.echo(f"imported {job.processed_rows} rows ({job.file_format}): created {job.created_count}, "
               f"updated {job.updated_count}, skipped {job.skipped_count}, invalid {job.invalid_count}")
    if job.invalid_count and errors_path:
        with open(errors_path, "w", encoding="utf-8", newline="") as target:
            target.write(job.errors_csv)
        click.echo(f"invalid rows written to {errors_path}")


def _show_dry_run(report: imports.DryRunReport) -> None:
    for name, kind, rows in report.parts:
        click.echo(f"{name}: {kind}, {rows} rows")
    statuses = ", ".join(f"{status} {count}" for status, count in sorted(report.statuses.items()))
    click.echo(f"{report.total_rows} rows: {report.valid_rows} valid ({statuses or 'none'}), "
               f"{report.invalid_rows} invalid; nothing was written")
    for error in report.errors:
        click.echo(f"  {error.part} line {error.line}: {error.email!r}: {error.problem}", err=True)
