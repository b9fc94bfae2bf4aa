import click
from flask.cli import AppGroup

from services.console import demo

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
def seed() -> None:
    """Create the demo list (and more as Roster grows); safe to run twice."""
    made = demo.seed()
    click.echo("created " + ", ".join(made) if made else "demo data already present")
