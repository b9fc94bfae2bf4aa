"""In a real browser: with the publication's settings made, no reader page and no mail
says "Roster"; the enrolment form shows every error at once; and a Mailchimp embed whose
host alone was changed signs a reader up through the JSONP call mc-validate.js makes."""

import pytest
from sqlalchemy import select

from extensions import db
from models import Subscription, SubscriptionStatus
from services.core import publication
from services.core.audit import CLI
from services.core.publication import PublicationFields
from services.subscriptions import lists
from services.subscriptions.lists import ListFields
from tests.browser.tours import reader_tour, seed_readers

MERIDIAN = PublicationFields(name="The Meridian Review", site_url="https://meridian.example/",
                             sender_name="Meridian Newsletters", postal_address="1 Quay Street, Portsmouth",
                             accent_colour="#1E5AA8")
U, AUDIENCE = "0a1b2c3d4e5f60718293a4b5c", "4e5f6a7b8c"


def test_no_reader_page_or_mail_says_roster_once_the_publication_is_set(roster, new_page, origin, newsletter,
                                                                        make_cohort, deliver):
    publication.save(CLI, MERIDIAN)
    links = seed_readers(origin, newsletter, make_cohort)
    page = new_page()
    showing = [(name, page.title(), page.content()) for name in reader_tour(page, roster, links)]
    assert [name for name, title, html in showing if "Roster" in title + html] == []
    mails = deliver()
    assert len(mails) >= 5
    parts = [(mail["Subject"], str(mail["From"]), mail.get_body(("plain",)).get_content(),
              mail.get_body(("html",)).get_content()) for mail in mails]
    assert [subject for subject, *texts in parts if "Roster" in subject + "".join(texts)] == []


def test_the_enrolment_form_shows_the_name_and_email_errors_together(roster, new_page, make_cohort):
    cohort = make_cohort()
    page = new_page()
    page.goto(f"{roster}/courses/{cohort.course.slug}/enroll")
    page.get_by_label("Email address").fill("not-an-address")
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_load_state()
    assert page.locator("#full_name-error").inner_text() == "Enter your full name."
    assert "email" in page.locator("#email-error").inner_text().lower()
    assert page.get_by_label("Full name").get_attribute("aria-invalid") == "true"


MAILCHIMP_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>An article</title></head>
<body><h1>An article</h1>
<div id="mc_embed_signup">
<form action="{roster}/subscribe/post?u={u}&amp;id={audience}" method="post" id="mc-embedded-subscribe-form"
      name="mc-embedded-subscribe-form" class="validate" target="_blank" novalidate>
  <div id="mc_embed_signup_scroll">
  <h2>Subscribe</h2>
  <div class="indicates-required"><span class="asterisk">*</span> indicates required</div>
  <div class="mc-field-group"><label for="mce-EMAIL">Email Address <span class="asterisk">*</span></label>
    <input type="email" value="" name="EMAIL" class="required email" id="mce-EMAIL"></div>
  <div class="mc-field-group"><label for="mce-FNAME">First Name </label>
    <input type="text" value="" name="FNAME" class="" id="mce-FNAME"></div>
  <div class="mc-field-group"><label for="mce-LNAME">Last Name </label>
    <input type="text" value="" name="LNAME" class="" id="mce-LNAME"></div>
  <div id="mce-responses" class="clear">
    <div class="response" id="mce-error-response" style="display:none"></div>
    <div class="response" id="mce-success-response" style="display:none"></div>
  </div>
  <div style="position: absolute; left: -5000px;" aria-hidden="true"><input type="text" name="b_{u}_{audience}"
    tabindex="-1" value=""></div>
  <div class="clear"><input type="submit" value="Subscribe" name="subscribe" id="mc-embedded-subscribe"
    class="button"></div>
  </div>
</form>
</div>
<script>
/* What mc-validate.js does on submit: the form's fields as a query string on the action,
   /post? turned into /post-json?, c= naming a global callback, loaded as a <script>. */
document.getElementById("mc-embedded-subscribe-form").addEventListener("submit", function (event) {{
  event.preventDefault();
  var form = event.target, name = "jQuery19006543_" + Date.now();
  window[name] = function (resp) {{
    var box = document.getElementById(resp.result === "success" ? "mce-success-response" : "mce-error-response");
    box.style.display = "block";
    box.innerHTML = resp.msg;
  }};
  var query = new URLSearchParams(new FormData(form)).toString();
  var script = document.createElement("script");
  script.src = form.action.replace("/post?", "/post-json?") + "&" + query + "&c=" + name;
  document.head.appendChild(script);
}});
</script>
</body></html>"""


@pytest.fixture
def mailchimp_article(app, roster, serve, newsletter):
    lists.create_list(CLI, ListFields(name="Morning Briefing", slug="briefing",
                                      mailchimp_account_id=U, mailchimp_audience_id=AUDIENCE))
    html = MAILCHIMP_PAGE.format(roster=roster, u=U, audience=AUDIENCE).encode()

    def article(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html]

    url = serve(article, host="localhost")
    app.config["EMBED_ALLOWED_ORIGINS"] = [url]
    return url


def test_a_mailchimp_embed_with_its_host_changed_signs_up_through_jsonp(mailchimp_article, new_page):
    page = new_page()
    page.goto(mailchimp_article)
    page.get_by_label("Email Address").fill("reader@example.com")
    page.get_by_label("First Name").fill("Ada")
    page.get_by_role("button", name="Subscribe").click()
    success = page.locator("#mce-success-response")
    success.wait_for()
    assert "Thank you" in success.inner_text()
    db.session.expire_all()
    subscription = db.session.scalars(select(Subscription)).one()
    assert (subscription.mailing_list.slug, subscription.status) == ("briefing", SubscriptionStatus.PENDING)
    assert subscription.subscriber.full_name == "Ada"
