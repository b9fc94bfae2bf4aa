"""`flask` CLI commands, grouped by what they act on."""

from flask import Flask


def register_commands(app: Flask) -> None:
    from commands.admin import admin_cli
    from commands.api_tokens import api_tokens_cli
    from commands.bounces import bounces_cli
    from commands.campaigns import campaigns_cli
    from commands.courses import cohorts_cli, courses_cli
    from commands.data import data_cli
    from commands.demo import demo_cli
    from commands.maintenance import maintenance_cli
    from commands.outbox import outbox_cli
    from commands.subscribers import subscribers_cli
    from commands.worker import jobs_command, worker_command

    app.cli.add_command(outbox_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(maintenance_cli)
    app.cli.add_command(admin_cli)
    app.cli.add_command(courses_cli)
    app.cli.add_command(cohorts_cli)
    app.cli.add_command(subscribers_cli)
    app.cli.add_command(api_tokens_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_command)
    app.cli.add_command(data_cli)
    app.cli.add_command(campaigns_cli)
    app.cli.add_command(bounces_cli)
