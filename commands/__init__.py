"""`flask` CLI commands, grouped by what they act on."""

from flask import Flask


def register_commands(app: Flask) -> None:
    from commands.api_tokens import api_tokens_cli
    from commands.demo import demo_cli
    from commands.outbox import outbox_cli

    app.cli.add_command(outbox_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(api_tokens_cli)
