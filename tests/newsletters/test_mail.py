"""The campaign's mail on the wire: headers, parts, links; sanitised Markdown; the archive
and its feed; the console and the command line."""

import re
from xml.etree import ElementTree

from sqlalchemy import select

from extensions import db
from models import AuditEvent, Campaign, CampaignStatus, OutboxMessage
from services.core.audit import CLI
from services.mail.outbox_worker import drain
from services.newsletters import campaigns
from services.worker.runner import Worker
from tests.support import csrf_token

HOSTILE = """# Issue <em>one</em>

Hello <script>alert('mail')</script> readers.

<img src="https://news.example/a.png" onerror="alert(1)" alt="chart">

[click](javascript:alert(1)) and [the analysis](https://news.example/analysis "Analysis").

- point *one*
"""


def sent_campaign(app, mailing_list, make_campaign, readers, *, body=HOSTILE, subject="Issue <one> & more") -> int:
    readers(mailing_list, 2, prefix=f"{mailing_list.slug}-reader")
    campaign_id = make_campaign(mailing_list, body=body, subject=subject)
    campaigns.send(CLI, campaign_id)
    Worker(app).run_once()
    return campaign_id


def test_the_mail_on_the_wire_carries_its_list_headers_parts_and_links(
        app, client, newsletter, readers, make_campaign, smtp_sink):
    campaign_id = sent_campaign(app, newsletter, make_campaign, readers)
    first, second = sorted(smtp_sink.wait_for(2), key=lambda m: m["To"].addresses[0].addr_spec)
    raw = next(r for r in smtp_sink.raw if b"updates-reader0@" in r.split(b"\r\n\r\n")[0])
    assert first["Subject"] == "Issue <one> & more"
    assert first["To"].addresses[0].display_name == "Reader 0"
    assert first["To"].addresses[0].addr_spec == "updates-reader0@example.com"
    assert re.fullmatch(rf"<campaign-{campaign_id}\.subscriber-\d+@roster\.test>", first["Message-ID"])
    assert first["Message-ID"] != second["Message-ID"]
    assert first["List-Id"] == "<updates.roster.test>"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(http://roster\.test/unsubscribe/[^>]+)>", first["List-Unsubscribe"]).group(1)
    assert unsubscribe != re.fullmatch(r"<(.+)>", second["List-Unsubscribe"]).group(1)  # per reader
    assert b"\nList-Unsubscribe: <http://roster.test/unsubscribe/" in raw  # one line, not encoded words
    text = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    archive = "http://roster.test/newsletters/updates/issue-one-more"
    assert f"View in your browser: {archive}" in text and f'href="{archive}"' in html
    assert "the analysis (https://news.example/analysis)" in text  # from the Markdown, not the HTML
    assert "- point one" in text
    assert unsubscribe in text and f'href="{unsubscribe}"' in html
    assert 'style="' in html and "<style>" in html  # inlined, the dark scheme's rules kept
    # Open and click tracking: none. The links go straight to where they point.
    assert "https://news.example/analysis" in html and "pixel" not in html
    # The one-click unsubscribe in the header works without a cookie.
    assert client.post(unsubscribe.removeprefix("http://roster.test")).status_code == 200


def test_script_and_event_handlers_reach_neither_the_mail_nor_the_archive(
        app, client, newsletter, readers, make_campaign, smtp_sink):
    sent_campaign(app, newsletter, make_campaign, readers)
    mail = smtp_sink.wait_for(2)[0]
    html, text = mail.get_body(("html",)).get_content(), mail.get_body(("plain",)).get_content()
    page = client.get("/newsletters/updates/issue-one-more").get_data(as_text=True)
    feed = client.get("/newsletters/updates/feed.atom").get_data(as_text=True)
    for document in (html, page, ElementTree.fromstring(feed.encode()).find(  # noqa: S314 (our own feed)
            "{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content").text):
        assert "<script" not in document and "alert('mail')" not in document
        assert "onerror" not in document and 'href="javascript' not in document
        assert '<img src="https://news.example/a.png" alt="chart"' in document
    assert "<script" not in text and "onerror" not in text


def test_the_archive_lists_sent_issues_of_public_lists_only(
        app, client, newsletter, make_list, readers, make_campaign, smtp_sink):
    campaign_id = sent_campaign(app, newsletter, make_campaign, readers)
    draft_id = make_campaign(newsletter, subject="Not yet")
    secret = make_list("insiders", public=False)
    sent_campaign(app, secret, make_campaign, readers, subject="Private issue")
    index = client.get("/newsletters/updates")
    assert index.status_code == 200
    body = index.get_data(as_text=True)
    assert "Issue &lt;one&gt; &amp; more" in body and "Not yet" not in body
    issue = client.get("/newsletters/updates/issue-one-more")
    assert issue.status_code == 200
    page = issue.get_data(as_text=True)
    assert 'action="/subscribe"' in page and 'name="list" type="hidden" value="updates"' in page
    draft_slug = db.session.get(Campaign, draft_id).slug
    for path in ("/newsletters/insiders", "/newsletters/insiders/private-issue", "/newsletters/insiders/feed.atom",
                 f"/newsletters/updates/{draft_slug}", "/newsletters/nothing", "/newsletters/updates/%00"):
        assert client.get(path).status_code == 404, path
    private_mail = next(m for m in smtp_sink.messages if m["Subject"] == "Private issue")
    assert "View in your browser" not in private_mail.get_body(("plain",)).get_content()
    assert campaign_id


def test_the_feed_is_atom_with_absolute_urls_from_base_url(app, client, newsletter, readers, make_campaign,
                                                           smtp_sink):
    sent_campaign(app, newsletter, make_campaign, readers)
    response = client.get("/newsletters/updates/feed.atom", headers={"Host": "evil.example"})
    assert response.mimetype == "application/atom+xml"
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.fromstring(response.data)  # noqa: S314 (our own feed)
    assert feed.find(f"{atom}title").text == "International Relations Updates"
    [entry] = feed.findall(f"{atom}entry")
    assert entry.find(f"{atom}title").text == "Issue <one> & more"
    assert entry.find(f"{atom}link").get("href") == "http://roster.test/newsletters/updates/issue-one-more"
    assert entry.find(f"{atom}summary").text == "Five things to know"
    assert "evil.example" not in response.get_data(as_text=True)


def test_a_sent_campaign_cannot_be_edited_or_sent_again(app, newsletter, readers, make_campaign, smtp_sink):
    campaign_id = sent_campaign(app, newsletter, make_campaign, readers)
    fields = campaigns.CampaignFields(newsletter.id, "Changed", "", "Changed")
    for attempt in (lambda: campaigns.update(CLI, campaign_id, fields), lambda: campaigns.send(CLI, campaign_id)):
        try:
            attempt()
        except campaigns.InvalidInput:
            pass
        else:
            raise AssertionError("a sent campaign changed")
    assert db.session.get(Campaign, campaign_id).subject == "Issue <one> & more"


def test_console_writes_previews_tests_sends_and_pauses_with_every_step_audited(
        app, signed_in_client, newsletter, readers, staff_user, smtp_sink):
    client = signed_in_client
    readers(newsletter, 3)
    token = csrf_token(client, "/admin/newsletters/new")
    response = client.post("/admin/newsletters/new", data={
        "csrf_token": token, "list_id": newsletter.id, "subject": "Console issue", "preheader": "",
        "body_markdown": "Hello <script>x()</script>"})
    assert response.status_code == 303
    campaign_id = db.session.scalar(select(Campaign.id))
    page = client.get(f"/admin/newsletters/{campaign_id}?view=phone&scheme=dark").get_data(as_text=True)
    assert "mail-preview-phone" in page and f"/admin/newsletters/{campaign_id}/preview.html?scheme=dark" in page
    preview = client.get(f"/admin/newsletters/{campaign_id}/preview.html?scheme=dark")
    assert "sandbox" in preview.headers["Content-Security-Policy"]
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "@media all" in preview.get_data(as_text=True) and "<script" not in preview.get_data(as_text=True)
    assert client.post(f"/admin/newsletters/{campaign_id}/test", data={"csrf_token": token}).status_code == 303
    test_mail = db.session.scalar(select(OutboxMessage))
    assert (test_mail.recipient, test_mail.subject) == (staff_user.email, "[Test] Console issue")
    drain()
    assert smtp_sink.wait_for(1)[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert client.post(f"/admin/newsletters/{campaign_id}/send", data={"csrf_token": token}).status_code == 303
    assert Worker(app).run_job()  # started: sending
    for action in ("pause", "resume", "cancel"):
        assert client.post(f"/admin/newsletters/{campaign_id}/{action}", data={"csrf_token": token}).status_code == 303
    db.session.rollback()
    assert db.session.get(Campaign, campaign_id).status == CampaignStatus.CANCELLED
    assert client.post(f"/admin/newsletters/{campaign_id}", data={
        "csrf_token": token, "list_id": newsletter.id, "subject": "Edited", "body_markdown": "x"}).status_code == 409
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("campaign.%"))
                                      .order_by(AuditEvent.id)))
    assert actions == ["campaign.create", "campaign.test", "campaign.send", "campaign.pause", "campaign.resume",
                       "campaign.cancel"]
    listing = client.get("/admin/newsletters").get_data(as_text=True)
    assert "Console issue" in listing and "cancelled" in listing


def test_the_command_line_creates_sends_shows_and_lists(app, newsletter, readers, smtp_sink, tmp_path):
    readers(newsletter, 2)
    body = tmp_path / "issue.md"
    body.write_text("# From the shell\n\nHello.", encoding="utf-8")
    runner = app.test_cli_runner()
    created = runner.invoke(args=["campaigns", "create", "--list", "updates", "--subject", "Shell issue",
                                  "--body", str(body)])
    assert created.exit_code == 0, created.output
    campaign_id = int(created.output.strip())
    later = runner.invoke(args=["campaigns", "send", str(campaign_id), "--at", "2099-01-01T08:00:00+01:00"])
    assert later.exit_code == 0 and "2099-01-01T07:00:00+00:00" in later.output
    assert Worker(app).run_once().newsletter_mails_sent == 0  # not due
    shown = runner.invoke(args=["campaigns", "show", str(campaign_id)])
    assert "status: scheduled" in shown.output
    assert runner.invoke(args=["campaigns", "send", str(campaign_id), "--at", "tomorrow"]).exit_code != 0
    assert runner.invoke(args=["campaigns", "create", "--list", "nope", "--subject", "x",
                               "--body", str(body)]).exit_code != 0
    campaigns.change(CLI, campaign_id, "cancel")
    now_id = int(runner.invoke(args=["campaigns", "create", "--list", "updates", "--subject", "Now",
                                     "--body", str(body)]).output)
    assert runner.invoke(args=["campaigns", "send", str(now_id)]).exit_code == 0
    Worker(app).run_once()
    shown = runner.invoke(args=["campaigns", "show", str(now_id)]).output
    assert "status: sent" in shown and "recipients: 2" in shown and "sent: 2" in shown
    listing = runner.invoke(args=["campaigns", "list"]).output.splitlines()
    assert listing[0].startswith(f"{now_id}\tsent\tupdates\tNow") and "cancelled" in listing[1]
