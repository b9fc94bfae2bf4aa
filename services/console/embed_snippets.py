"""The markup a site pastes into its article template to embed a list's sign-up form:
a plain form, the same with Mailchimp's field names, an iframe and the script widget
(as docs/embedding.md describes them), with Roster's address from BASE_URL."""

import json
from dataclasses import dataclass
from html import escape

from flask import current_app

from models import MailingList
from services.core.links import external_url
from services.core.origins import origin_of
from services.subscriptions.consent import CURRENT_SUBSCRIBE_WORDING, WORDINGS

# Any name starting with b_ is taken for Mailchimp's honeypot (blueprints/embed/forms.py).
MAILCHIMP_HONEYPOT = "b_roster"
_OFF_SCREEN = "position:absolute;left:-10000px"


@dataclass(frozen=True)
class ListSnippets:
    mailing_list: MailingList
    form: str
    mailchimp_form: str
    iframe: str
    script: str


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _form(action: str, fields: str) -> str:
    return (f'<form method="post" action="{_attr(action)}">\n{fields}'
            f'  <p>{escape(WORDINGS[CURRENT_SUBSCRIBE_WORDING])}</p>\n'
            '  <button type="submit">Subscribe</button>\n</form>')


def _field(input_id: str, name: str, label: str, attributes: str = ' type="text"', indent: str = "  ") -> str:
    return (f'{indent}<label for="{input_id}">{label}</label>\n'
            f'{indent}<input{attributes} id="{input_id}" name="{name}">\n')


def _off_screen(content: str) -> str:
    """The honeypot: hidden from people, filled in by bots."""
    return f'  <div style="{_OFF_SCREEN}" aria-hidden="true">\n{content}  </div>\n'


def _plain_form(action: str, slug: str) -> str:
    prefix = f"roster-{slug}"
    return _form(action, (
        _field(f"{prefix}-name", "full_name", "Full Name", ' type="text" autocomplete="name"')
        + _field(f"{prefix}-email", "email", "Email Address *", ' type="email" autocomplete="email" required')
        + _off_screen(_field(f"{prefix}-website", "website", "Leave this field empty",
                             ' type="text" tabindex="-1" autocomplete="off"', indent="    "))))


def _mailchimp_form(action: str, slug: str) -> str:
    prefix = f"mce-{slug}"
    return _form(action, (
        _field(f"{prefix}-FNAME", "FNAME", "First Name")
        + _field(f"{prefix}-LNAME", "LNAME", "Last Name")
        + _field(f"{prefix}-EMAIL", "EMAIL", "Email Address *", ' type="email" required')
        + _off_screen(f'    <input type="text" name="{MAILCHIMP_HONEYPOT}" tabindex="-1" value="">\n')))


def _script_string(value: str) -> str:
    """A JavaScript string literal that cannot close the <script> element around it."""
    return json.dumps(value).replace("<", "\\u003c")


def _iframe(mailing_list: MailingList, frame_url: str) -> str:
    """The frame, light by default (most article pages are), and the few lines that fit its
    height to the form inside (a height is taken only from Roster's origin and that frame)
    and, once it has loaded, tell it the article's title, to Roster's origin only."""
    frame_id = f"roster-frame-{mailing_list.slug}"
    roster_origin = origin_of(current_app.config["BASE_URL"]) or ""
    return (f'<iframe id="{_attr(frame_id)}" title="Subscribe to {_attr(mailing_list.name)}"\n'
            '        style="width:100%;height:380px;border:0"\n'
            f'        src="{_attr(frame_url)}"\n'
            '        referrerpolicy="no-referrer-when-downgrade"></iframe>\n'
            '<script>\n'
            'window.addEventListener("message", function (event) {\n'
            f'  var frame = document.getElementById({_script_string(frame_id)});\n'
            f'  if (event.origin !== {_script_string(roster_origin)}) return;\n'
            '  if (!frame || event.source !== frame.contentWindow) return;\n'
            '  var height = event.data && event.data.type === "roster:height" ? Number(event.data.height) : 0;\n'
            '  if (height > 0 && height < 5000) frame.style.height = Math.ceil(height) + "px";\n'
            '  event.source.postMessage({type: "roster:title", title: document.title}, event.origin);\n'
            '});\n'
            '</script>')


def snippets(mailing_list: MailingList) -> ListSnippets:
    slug = _attr(mailing_list.slug)
    action = external_url("embed.subscribe", list=mailing_list.slug)
    frame = external_url("embed.form", list=mailing_list.slug, theme="light")
    return ListSnippets(
        mailing_list,
        form=_plain_form(action, slug),
        mailchimp_form=_mailchimp_form(action, slug),
        iframe=_iframe(mailing_list, frame),
        script=(f'<div data-roster-form data-list="{slug}"></div>\n'
                f'<script src="{_attr(external_url("embed.script"))}" async></script>'),
    )
