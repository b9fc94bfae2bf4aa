"""The archive of a public list's sent issues, one issue with the sign-up form beside it,
and the Atom feed. A private list has no archive; an unsent campaign is not there."""

from flask import Response, render_template
from markupsafe import Markup

from blueprints.newsletters import bp
from blueprints.public.forms import SubscribeForm
from blueprints.requests import wording_shown
from services.core.transactions import read_session
from services.newsletters import archive, campaigns, markdown_text
from services.subscriptions.consent import CURRENT_SUBSCRIBE_WORDING


@bp.route("/<list_slug>")
def index(list_slug: str):
    mailing_list = campaigns.public_list(read_session(), list_slug)
    return render_template("newsletters/index.html", mailing_list=mailing_list,
                           issues=campaigns.sent_issues(read_session(), mailing_list))


@bp.route("/<list_slug>/<campaign_slug>")
def issue(list_slug: str, campaign_slug: str):
    mailing_list = campaigns.public_list(read_session(), list_slug)
    campaign = campaigns.sent_issue(read_session(), mailing_list, campaign_slug)
    body = Markup(markdown_text.to_html(campaign.body_markdown))  # noqa: S704 (sanitised by nh3)
    return render_template("newsletters/issue.html", mailing_list=mailing_list, campaign=campaign, body=body,
                           form=SubscribeForm(list=mailing_list.slug),
                           wording=wording_shown(CURRENT_SUBSCRIBE_WORDING)[1])


@bp.route("/<list_slug>/feed.atom")
def feed(list_slug: str):
    mailing_list = campaigns.public_list(read_session(), list_slug)
    return Response(archive.atom_feed(mailing_list, campaigns.sent_issues(read_session(), mailing_list)),
                    mimetype="application/atom+xml")
