"""The Atom feed (RFC 4287) of a public list's sent issues; every URL absolute, from BASE_URL."""

from datetime import datetime
from xml.etree import ElementTree

from models import Campaign, MailingList
from models.base import utcnow
from services.core.links import external_url
from services.newsletters import markdown_text

ATOM = "http://www.w3.org/2005/Atom"


def _add(parent: ElementTree.Element, tag: str, text: str | None = None, **attributes) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag, attributes)
    element.text = text
    return element


def _sent_at(campaign: Campaign) -> datetime:
    """When an issue went out: its sending finished (the archive lists sent issues only)."""
    return campaign.finished_at or campaign.started_at or campaign.created_at


def atom_feed(mailing_list: MailingList, issues: list[Campaign]) -> bytes:
    archive_url = external_url("newsletters.index", list_slug=mailing_list.slug)
    feed = ElementTree.Element("feed", xmlns=ATOM)
    _add(feed, "title", mailing_list.name)
    if mailing_list.description:
        _add(feed, "subtitle", mailing_list.description)
    _add(feed, "id", archive_url)
    _add(feed, "link", rel="alternate", type="text/html", href=archive_url)
    _add(feed, "link", rel="self", type="application/atom+xml",
         href=external_url("newsletters.feed", list_slug=mailing_list.slug))
    _add(feed, "updated", (_sent_at(issues[0]) if issues else utcnow()).isoformat())
    for campaign in issues:
        url = external_url("newsletters.issue", list_slug=mailing_list.slug, campaign_slug=campaign.slug)
        entry = _add(feed, "entry")
        _add(entry, "title", campaign.subject)
        _add(entry, "id", url)
        _add(entry, "link", rel="alternate", type="text/html", href=url)
        _add(entry, "updated", _sent_at(campaign).isoformat())
        _add(entry, "published", (campaign.started_at or _sent_at(campaign)).isoformat())
        if campaign.preheader:
            _add(entry, "summary", campaign.preheader)
        # The sanitised HTML, escaped as the element's text (type="html").
        _add(entry, "content", markdown_text.to_html(campaign.body_markdown), type="html")
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
