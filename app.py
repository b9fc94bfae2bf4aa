"""Application factory: wires configuration, extensions, blueprints, CLI and errors."""

import os

from flask import Flask

from config import config_for
from extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    config_class = config_for((config or {}).get("APP_ENV"))
    app.config.from_object(config_class)
    app.config.update(config or {})
    os.makedirs(app.instance_path, exist_ok=True)
    _check_production_settings(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        from services.transactions import configure_engine

        configure_engine(db.engine)

    from blueprints import register_blueprints
    from blueprints.errors import register_error_handlers
    from commands import register_commands

    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)

    if app.config["OUTBOX_IN_PROCESS"]:
        _start_outbox_thread_on_first_request(app)
    return app


def _check_production_settings(app: Flask) -> None:
    if app.config["ENV_NAME"] != "production":
        return
    from config import KNOWN_DEFAULT_SECRETS

    if app.config["SECRET_KEY"] in KNOWN_DEFAULT_SECRETS:
        raise RuntimeError("SECRET_KEY must be set to a long random value in production.")
    if app.debug:
        raise RuntimeError("Debug mode must be off in production (unset FLASK_DEBUG).")


def _start_outbox_thread_on_first_request(app: Flask) -> None:
    """Development convenience: mail appears on the console without a second process.
    Started on the first request so that CLI commands never start it."""
    import threading

    from services.outbox_worker import start_background_thread

    started = threading.Event()
    lock = threading.Lock()

    @app.before_request
    def _start_outbox_thread() -> None:
        if started.is_set():
            return
        with lock:
            if not started.is_set():
                start_background_thread(app)
                started.set()
