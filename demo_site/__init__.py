"""A stand-in for a publisher's article site, on its own origin, carrying Roster's
three embeds (form post, iframe, script) and the course promo.

`make run` serves it on http://localhost:5001 beside Roster on http://127.0.0.1:5000,
so a sign-up from it takes the real cross-origin path. Not part of Roster itself.
"""

import os

from flask import Flask, redirect, render_template, request, url_for

ARTICLE_SLUG = "foreign-ministers-call-for-summit"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        ROSTER_URL=os.environ.get("ROSTER_URL", "http://127.0.0.1:5000").rstrip("/"),
        ROSTER_LIST=os.environ.get("ROSTER_LIST", "international-relations"),
        SITE_NAME="The Meridian Review",
    )
    app.config.update(config or {})

    @app.route("/")
    def home():
        return redirect(url_for("article", slug=ARTICLE_SLUG))

    @app.route("/world/<slug>")
    def article(slug: str):
        if slug != ARTICLE_SLUG:
            return "No such article.", 404
        return render_template("article.html", roster=app.config["ROSTER_URL"],
                               list_slug=app.config["ROSTER_LIST"], site=app.config["SITE_NAME"],
                               article_url=request.base_url)

    return app
