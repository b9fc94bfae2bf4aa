"""HTTP only: thin views that call services, grouped in blueprints by surface."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    # Each blueprint's package makes only its `bp`; importing the view modules attaches
    # their routes to it, so no view module is imported by its own package.
    from blueprints.admin import access as admin_access  # noqa: F401  (sign-in for every console view)
    from blueprints.admin import bp as admin_bp
    from blueprints.admin.background import routes as background_routes  # noqa: F401
    from blueprints.admin.courses import routes as course_admin_routes  # noqa: F401
    from blueprints.admin.data import routes as data_routes  # noqa: F401
    from blueprints.admin.integrations import routes as integration_routes  # noqa: F401
    from blueprints.admin.lists import routes as list_routes  # noqa: F401
    from blueprints.admin.newsletters import routes as newsletter_admin_routes  # noqa: F401
    from blueprints.admin.overview import routes as overview_routes  # noqa: F401
    from blueprints.admin.publication import routes as publication_admin_routes  # noqa: F401
    from blueprints.admin.staff import routes as staff_routes  # noqa: F401
    from blueprints.admin.subscribers import routes as subscriber_routes  # noqa: F401
    from blueprints.admin.suppressions import routes as suppression_routes  # noqa: F401
    from blueprints.api import bp as api_bp
    from blueprints.api import enrollments as api_enrollments  # noqa: F401
    from blueprints.api import public as api_public  # noqa: F401
    from blueprints.api import staff as api_staff  # noqa: F401
    from blueprints.courses import bp as courses_bp
    from blueprints.courses import routes as course_routes  # noqa: F401
    from blueprints.embed import bp as embed_bp
    from blueprints.embed import routes as embed_routes  # noqa: F401
    from blueprints.hooks import bp as hooks_bp
    from blueprints.hooks import routes as hook_routes  # noqa: F401
    from blueprints.newsletters import bp as newsletters_bp
    from blueprints.newsletters import routes as newsletter_routes  # noqa: F401
    from blueprints.public import bp as public_bp
    from blueprints.public import privacy_routes, publication_routes, routes  # noqa: F401

    app.register_blueprint(public_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(hooks_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(newsletters_bp)
    app.register_blueprint(admin_bp)
    if app.config["ENV_NAME"] == "development" or app.config.get("DEV_MAILBOX"):
        from blueprints.dev import bp as dev_bp
        from blueprints.dev import routes as dev_routes  # noqa: F401

        app.register_blueprint(dev_bp)
