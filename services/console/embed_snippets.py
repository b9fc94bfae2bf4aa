"""The markup a site pastes into its article template to embed a list's sign-up form:
a plain form, the same with Mailchimp's field names, an iframe and the script widget
(as docs/embedding.md describes them), with Roster's address from BASE_URL."""

from dataclasses import dataclass
from html import escape

from models import MailingList
from services.core.links import external_url
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


def snippets(mailing_list: MailingList) -> ListSnippets:
    slug = _attr(mailing_list.slug)
    action = external_url("embed.subscribe", list=mailing_list.slug)
    frame = external_url("embed.form", list=mailing_list.slug)
    return ListSnippets(
        mailing_list,
        form=_plain_form(action, slug),
        mailchimp_form=_mailchimp_form(action, slug),
        iframe=(f'<iframe title="Subscribe to {_attr(mailing_list.name)}" '
                'style="width:100%;height:380px;border:0"\n'
                f'        src="{_attr(frame)}"\n'
                '        referrerpolicy="no-referrer-when-downgrade"></iframe>'),
        script=(f'<div data-roster-form data-list="{slug}"></div>\n'
                f'<script src="{_attr(external_url("embed.script"))}" async></script>'),
    )
