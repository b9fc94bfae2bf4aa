"""Application factory: wires configuration, extensions, blueprints, CLI and errors."""

import os

from flask import Flask
from flask_login import current_user

from config import config_for
from extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    config_class = config_for((config or {}).get("APP_ENV"))
    app.config.from_object(config_class)
    app.config.update(config or {})
    os.makedirs(app.instance_path, exist_ok=True)
    _check_production_settings(app)
    if proxies := app.config["TRUSTED_PROXY_COUNT"]:
        # Client IPs drive rate limits and consent records: trust only our own proxies.
        # Not X-Forwarded-Host: BASE_URL, not a header, says which host we are.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    from blueprints.json_bodies import BoundedJSONProvider
    from blueprints.sessions import SessionInterface

    app.json = BoundedJSONProvider(app)
    app.session_interface = SessionInterface()
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    # Templates see the signed-in user through the lazy proxy, as they see `request`:
    # Flask-Login's own context processor loads the user for every page, public ones too.
    login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    with app.app_context():
        from services.core.transactions import configure_engine

        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    from blueprints import register_blueprints
    from blueprints.errors import register_error_handlers
    from blueprints.locale import register_locale
    from blueprints.security_headers import register_security_headers
    from commands import register_commands

    register_locale(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def _check_production_settings(app: Flask) -> None:
    if app.config["ENV_NAME"] != "production":
        return
    from config import weak_secret_reason

    keys = [("SECRET_KEY", app.config["SECRET_KEY"] or "")]
    keys += [(f"SECRET_KEY_FALLBACKS (key {n})", key)
             for n, key in enumerate(app.config["SECRET_KEY_FALLBACKS"] or (), start=1)]
    if app.config["TOMBSTONE_KEY"] is not None:
        keys.append(("TOMBSTONE_KEY", app.config["TOMBSTONE_KEY"]))
    for name, key in keys:
        # Any accepted key signs staff sessions: a weak fallback is as bad as a weak key.
        if reason := weak_secret_reason(key):
            raise RuntimeError(f"{name} {reason}. In production every key must be set to a random value "
                               "of at least 32 characters "
                               "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))').")
    if app.debug:
        raise RuntimeError("DEBUG must be off in production: unset FLASK_DEBUG.")
    if app.config["RATELIMIT_ENABLED"] and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        # gunicorn.conf.py refuses several workers so; other servers cannot be asked.
        app.logger.warning("Rate limits are counted in this process's memory: they hold only when one "
                           "process serves the site. With several, set RATELIMIT_STORAGE_URI=redis://…")

