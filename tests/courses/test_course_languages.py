"""Course pages, enrolment mail and the .ics invitation in the reader's language."""

from email.header import decode_header, make_header

from babel.dates import format_date
from icalendar import Calendar
from sqlalchemy import select

from extensions import db
from models import ConsentEvent, Enrollment
from services.subscriptions.consent import WORDINGS
from tests.support import csrf_token, link_path


def test_course_dates_and_fees_read_as_the_locale_writes_them(client, make_cohort):
    cohort = make_cohort()
    french = client.get(f"/courses/{cohort.course.slug}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert format_date(cohort.starts_on, "full", locale="fr") in french  # e.g. « lundi 2 mars 2026 »
    assert "249,00\xa0€" in french and "6 semaines" in french and "places restantes" in french
    hindi = client.get(f"/courses/{cohort.course.slug}", headers={"Accept-Language": "hi"}).get_data(as_text=True)
    assert format_date(cohort.starts_on, "full", locale="hi") in hindi and "6 हफ़्ते" in hindi
    english = client.get(f"/courses/{cohort.course.slug}").get_data(as_text=True)
    assert format_date(cohort.starts_on, "full", locale="en_GB") in english and "€249.00" in english


def test_a_spanish_enrolment_is_answered_in_spanish_with_a_spanish_invitation(client, make_cohort, deliver):
    cohort = make_cohort()
    path = f"/courses/{cohort.course.slug}/enroll?lang=es"
    page = client.get(path).get_data(as_text=True)
    assert 'lang="es"' in page and WORDINGS["enroll-v1/es"] in page and "(elige un país)" in page
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "cohort": str(cohort.id),
                                       "full_name": "Ana Pérez", "email": "ana@example.es", "country": "MX"})
    assert response.status_code == 303
    [request_mail] = deliver(1)
    assert str(make_header(decode_header(request_mail["Subject"]))) == \
        f"Confirma tu inscripción en {cohort.course.title}"
    assert db.session.scalars(select(ConsentEvent.wording_version)).one() == "enroll-v1/es"
    assert db.session.scalars(select(Enrollment.language)).one() == "es"
    client.application.test_client().post(link_path(request_mail, "enrollments/confirm"))
    seat_mail = deliver(2)[1]
    assert "Inscripción confirmada" in str(make_header(decode_header(seat_mail["Subject"])))
    invitation = next(part for part in seat_mail.iter_attachments() if part.get_content_type() == "text/calendar")
    [event] = Calendar.from_ical(invitation.get_payload(decode=True)).walk("VEVENT")
    assert str(event["SUMMARY"]).startswith("Empieza ") and str(event["LOCATION"]) == "En línea"
    assert format_date(cohort.starts_on, "full", locale="es") in str(event["DESCRIPTION"])


def test_a_validation_message_is_in_the_readers_language(client, make_cohort):
    cohort = make_cohort()
    path = f"/courses/{cohort.course.slug}/enroll?lang=ar"
    page = client.post(path, data={"csrf_token": csrf_token(client, path), "cohort": str(cohort.id),
                                   "full_name": "", "email": "no-at-sign"}).get_data(as_text=True)
    assert "أدخل اسمك الكامل." in page and 'dir="rtl"' in page
