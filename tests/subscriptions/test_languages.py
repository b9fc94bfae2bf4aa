"""Readers in their own language: which language a page is in, and that a reader's mail
and consent record follow the language they signed up in."""

import re
from email.header import decode_header, make_header

from sqlalchemy import select

from extensions import db
from models import ConsentEvent, Subscription
from services.subscriptions import subscriptions
from services.subscriptions.consent import WORDINGS
from tests.subscriptions.test_embed import embed_post
from tests.support import csrf_token, link_path

ENGLISH_LABELS = ("Full Name", "Email Address", "Subscribe", "indicates required", "Leave this field empty")


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def subject_of(mail) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def test_accept_language_hi_gives_the_form_in_hindi_with_no_english_label_left(client, newsletter):
    page = client.get("/subscribe", headers={"Accept-Language": "hi-IN,hi;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert 'lang="hi"' in html_tag(page) and 'dir="ltr"' in html_tag(page)
    main = visible_text(page.split('<main', 1)[1].split("</main>", 1)[0])
    assert "पूरा नाम" in main and "ईमेल पता" in main and "सदस्यता लें" in main
    assert [label for label in ENGLISH_LABELS if label in main] == []


def test_arabic_pages_are_right_to_left(client, newsletter):
    page = client.get("/subscribe", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'lang="ar"' in html_tag(page) and 'dir="rtl"' in html_tag(page)
    framed = client.get("/embed/form", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'dir="rtl"' in html_tag(framed) and "اشترك" in framed


def test_lang_in_the_query_overrides_the_header_and_is_remembered_in_a_cookie(client, newsletter):
    response = client.get("/subscribe?lang=es", headers={"Accept-Language": "hi"})
    assert 'lang="es"' in html_tag(response.get_data(as_text=True)) and "Suscribirme" in response.get_data(as_text=True)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=es;") and "SameSite=Lax" in cookie
    assert "Accept-Language" in response.headers["Vary"]
    # the next page, with no ?lang=, is in the language chosen, whatever the browser says
    assert 'lang="es"' in html_tag(client.get("/privacy", headers={"Accept-Language": "hi"}).get_data(as_text=True))


def test_a_language_not_shipped_falls_back_to_the_header_then_the_default(client, newsletter):
    assert 'lang="fr"' in html_tag(client.get("/subscribe?lang=xx", headers={"Accept-Language": "de, fr;q=0.8"})
                                   .get_data(as_text=True))
    assert 'lang="en"' in html_tag(client.get("/subscribe", headers={"Accept-Language": "de"}).get_data(as_text=True))


def test_the_footer_offers_every_language_by_plain_links(client, newsletter):
    page = client.get("/subscribe?list=updates", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    for code, name in (("en", "English"), ("hi", "हिन्दी"), ("ar", "العربية"), ("es", "Español")):
        assert f'href="/subscribe?list=updates&amp;lang={code}" lang="{code}"' in page and name in page
    assert 'lang="fr" hreflang="fr" aria-current="true"' in page


def test_the_console_stays_in_english(client, newsletter):
    page = client.get("/admin/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'lang="en"' in html_tag(page) and 'dir="rtl"' not in page


def test_a_french_sign_up_gets_its_confirmation_in_french_and_its_consent_record_holds_the_french_wording(
        client, newsletter, deliver):
    page = client.get("/subscribe", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert WORDINGS["subscribe-v1/fr"].replace("'", "&#39;") in page
    response = client.post("/subscribe", data={"csrf_token": csrf_token(client), "email": "lea@example.fr",
                                                "full_name": "Léa Martin"}, headers={"Accept-Language": "fr"})
    assert response.status_code == 303
    [mail] = deliver(1)
    assert subject_of(mail) == "Merci de confirmer votre abonnement à International Relations Updates"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Bonjour Léa Martin," in text and "Le lien est valable sept jours." in text
    assert '<html lang="fr" dir="ltr">' in html and "Se désabonner" in html
    event = db.session.scalars(select(ConsentEvent)).one()
    assert event.wording_version == "subscribe-v1/fr"
    assert WORDINGS[event.wording_version].startswith("Nous vous enverrons un e-mail pour confirmer votre adresse.")
    assert db.session.scalars(select(Subscription.language)).one() == "fr"


def test_mail_follows_the_language_signed_up_in_not_the_browser_that_clicks(client, newsletter, deliver):
    newsletter.welcome_text = "Hola."
    db.session.commit()
    client.post("/subscribe?lang=es", data={"csrf_token": csrf_token(client), "email": "ana@example.es"})
    [confirm] = deliver(1)
    other_browser = client.application.test_client()  # no cookie; an English browser
    other_browser.post(link_path(confirm, "confirm"), headers={"Accept-Language": "en"})
    welcome = deliver(2)[1]
    assert subject_of(welcome) == "Te damos la bienvenida a International Relations Updates"
    assert "Recibes este correo porque confirmaste tu suscripción" in welcome.get_body(("plain",)).get_content()


def test_without_a_language_of_their_own_a_reader_gets_the_lists_language(app, newsletter, origin, deliver):
    newsletter.language = "ar"
    db.session.commit()
    subscriptions.subscribe("imported@example.org", "", origin)  # no page: no language of the reader's
    [mail] = deliver(1)
    assert subject_of(mail) == "يُرجى تأكيد اشتراكك في International Relations Updates"
    assert db.session.scalars(select(Subscription.language)).one() is None


def test_staff_choose_a_lists_language(signed_in_client, newsletter):
    form = signed_in_client.get(f"/admin/lists/{newsletter.id}").get_data(as_text=True)
    assert 'name="language"' in form and "हिन्दी" in form
    data = {"csrf_token": csrf_token(signed_in_client, f"/admin/lists/{newsletter.id}"), "name": newsletter.name,
            "slug": newsletter.slug, "is_public": "y", "language": "hi"}
    assert signed_in_client.post(f"/admin/lists/{newsletter.id}", data=data).status_code == 303
    db.session.refresh(newsletter)
    assert newsletter.language == "hi"
    data["language"] = "xx"
    assert signed_in_client.post(f"/admin/lists/{newsletter.id}", data=data).status_code == 400


def test_the_answer_to_a_post_offers_languages_only_where_a_link_can_land(client, newsletter, embed_origins):
    """The embed's thank-you page answers a post to an address that takes no GET: a
    language link there would be a "405 Method Not Allowed"."""
    thanks = embed_post(client, {"email": "one@example.com"}).get_data(as_text=True)
    assert "Check your inbox" in thanks and "hreflang" not in thanks
    assert client.get("/embed/subscribe?lang=fr").status_code == 405
    errors = client.post("/subscribe", data={"csrf_token": csrf_token(client), "email": "not an address"})
    assert 'href="/subscribe?lang=fr"' in errors.get_data(as_text=True)  # the form's own page takes a GET
