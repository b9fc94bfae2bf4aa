"""HTTP layer: thin views that call services and translate their errors."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from blueprints.admin import bp as admin_bp
    from blueprints.api import bp as api_bp
    from blueprints.courses import bp as courses_bp
    from blueprints.embed import bp as embed_bp
    from blueprints.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(admin_bp)
