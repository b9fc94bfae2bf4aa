"""HTTP layer: thin views that call services and translate their errors."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from blueprints.admin import bp as admin_bp
    from blueprints.courses import bp as courses_bp
    from blueprints.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(admin_bp)
