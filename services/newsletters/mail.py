"""A campaign's mail, built once and filled in per recipient.

The Markdown is rendered, sanitised, put in the publisher's mail layout and its CSS
inlined once per campaign; the headers every recipient shares are folded once. Per
recipient only the To, the Message-ID, the unsubscribe link (in the List-Unsubscribe
header and in both parts) and the date are filled in: the parts are quoted-printable
already, around the places the link goes, and only the link is encoded per mail. No
EmailMessage per mail.
"""

import binascii
import time
import uuid
from dataclasses import dataclass, field
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from html import escape

import css_inline
from markupsafe import Markup

from models import Campaign
from services.core.languages import in_language
from services.core.links import external_url, mail_domain
from services.mail import outbox, rendering
from services.mail.mailer import MAIL_POLICY, ascii_domain, safe_display_name
from services.newsletters import markdown_text

# Where each recipient's unsubscribe link goes: survives Jinja, css-inline and nh3 unchanged.
LINK_PLACEHOLDER = "roster-recipient-unsubscribe-link"
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
_CRLF = b"\r\n"
# A soft line break: nothing in the decoded text. Each piece of a part is encoded on its
# own, between soft breaks, so no encoded line runs over 76 characters whatever the link.
_SOFT_BREAK = b"=\r\n"


def _quoted_printable(text: str) -> bytes:
    """`text` (CRLF line ends) quoted-printable, with CRLF soft breaks: binascii writes a
    bare LF in soft breaks of a text without line ends of its own."""
    encoded = binascii.b2a_qp(text.encode(), istext=True)
    return encoded if "\r\n" in text else encoded.replace(b"=\n", _SOFT_BREAK)


def _encoded_pieces(parts: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(_quoted_printable(part) for part in parts)


_date_header: tuple[int, str] = (0, "")


def date_header() -> str:
    """The Date header of a mail sent now: the same for every mail of a second, so made once a second."""
    global _date_header
    now = int(time.time())
    if _date_header[0] != now:
        _date_header = (now, formatdate(now, usegmt=True))
    return _date_header[1]


def message_id(campaign_id: int, subscriber_id: int) -> str:
    """Stable per campaign and recipient: a mail sent twice (a worker killed mid-send) is
    recognisably the same mail."""
    return f"<campaign-{campaign_id}.subscriber-{subscriber_id}@{mail_domain()}>"


def archive_url(campaign: Campaign) -> str | None:
    """The issue's page in the public archive; a private list has none."""
    if not campaign.mailing_list.is_public:
        return None
    return external_url("newsletters.issue", list_slug=campaign.mailing_list.slug, campaign_slug=campaign.slug)


def rendered_parts(campaign: Campaign, unsubscribe_url: str = LINK_PLACEHOLDER) -> tuple[str, str]:
    """The text and the inlined HTML, with `unsubscribe_url` where each reader's link goes; its
    own words (the footer) in the list's language, which the issue is written in."""
    with in_language(campaign.mailing_list.language):
        return _rendered_parts(campaign, unsubscribe_url)


def _rendered_parts(campaign: Campaign, unsubscribe_url: str) -> tuple[str, str]:
    context = {**outbox.mail_branding(), "subject": campaign.subject, "preheader": campaign.preheader,
               "list_name": campaign.mailing_list.name, "archive_url": archive_url(campaign),
               "unsubscribe_url": unsubscribe_url}
    text = rendering.render("email/campaign.txt", {
        **context, "body_text": markdown_text.to_text(campaign.body_markdown)})
    html = rendering.render("email/campaign.html", {
        **context, "body_html": Markup(markdown_text.to_html(campaign.body_markdown))})  # noqa: S704 (sanitised by nh3)
    return text, _INLINER.inline(html)


def preview_html(campaign: Campaign, *, dark: bool = False) -> str:
    """The HTML part as sent; `dark` applies the mail's dark-scheme rules whatever the
    viewer's own setting, as a reader's dark mode would."""
    html = rendered_parts(campaign, "#")[1]
    return html.replace("(prefers-color-scheme: dark)", "all") if dark else html


@dataclass(frozen=True)
class Recipient:
    subscriber_id: int
    email: str
    name: str
    unsubscribe_url: str


@dataclass(frozen=True)
class CampaignMail:
    campaign_id: int
    envelope_sender: str
    head: bytes  # the headers every recipient shares
    text_parts: tuple[str, ...]  # split where each recipient's link goes
    html_parts: tuple[str, ...]
    boundary: bytes
    text_pieces: tuple[bytes, ...] = field(init=False, repr=False)  # the parts, quoted-printable
    html_pieces: tuple[bytes, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text_pieces", _encoded_pieces(self.text_parts))
        object.__setattr__(self, "html_pieces", _encoded_pieces(self.html_parts))

    def bodies(self, unsubscribe_url: str) -> tuple[str, str]:
        return unsubscribe_url.join(self.text_parts), escape(unsubscribe_url).join(self.html_parts)

    def encoded_bodies(self, unsubscribe_url: str) -> tuple[bytes, bytes]:
        """bodies(), quoted-printable: the shared pieces encoded once, the link per mail."""
        text_link = _SOFT_BREAK + _quoted_printable(unsubscribe_url) + _SOFT_BREAK
        html_link = _SOFT_BREAK + _quoted_printable(escape(unsubscribe_url)) + _SOFT_BREAK
        return text_link.join(self.text_pieces), html_link.join(self.html_pieces)

    def fill(self, recipient: Recipient) -> tuple[bytes, bool]:
        """The whole mail for one recipient, and whether it needs SMTPUTF8 (a mailbox name
        beyond ASCII)."""
        text, html = self.encoded_bodies(recipient.unsubscribe_url)
        local_part, _, domain = ascii_domain(recipient.email).rpartition("@")
        address, name = f"{local_part}@{domain}", safe_display_name(recipient.name)
        smtputf8 = not local_part.isascii()
        if not name or smtputf8:
            to = formataddr((name, address)) if name else address
        elif name.isascii():
            to = formataddr((name, address))
        else:
            to = Header(name, "utf-8").encode(linesep="\r\n") + f" <{address}>"
        per_recipient = (f"To: {to}\r\nMessage-ID: {message_id(self.campaign_id, recipient.subscriber_id)}\r\n"
                         f"Date: {date_header()}\r\nList-Unsubscribe: <{recipient.unsubscribe_url}>\r\n")
        return b"".join((
            self.head, per_recipient.encode(), _CRLF,
            b"--", self.boundary, b"\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n", text,
            b"\r\n--", self.boundary, b"\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n", html,
            b"\r\n--", self.boundary, b"--\r\n",
        )), smtputf8


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def build(campaign: Campaign, sender: str, *, subject_prefix: str = "") -> CampaignMail:
    """Everything recipients share, once per campaign (the worker keeps it while sending)."""
    text, html = rendered_parts(campaign)
    boundary = f"=roster-{uuid.uuid4().hex}="
    shared = EmailMessage(policy=MAIL_POLICY)
    shared["From"] = sender
    shared["Subject"] = subject_prefix + campaign.subject
    shared["List-Id"] = f"<{campaign.mailing_list.slug}.{mail_domain()}>"
    shared["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    shared["MIME-Version"] = "1.0"
    shared["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
    head = shared.as_bytes().split(b"\r\n\r\n", 1)[0] + _CRLF
    return CampaignMail(campaign.id, parseaddr(sender)[1] or sender, head,
                        tuple(_crlf(text).split(LINK_PLACEHOLDER)), tuple(_crlf(html).split(LINK_PLACEHOLDER)),
                        boundary.encode())
