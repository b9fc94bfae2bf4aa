"""What a person types into the enrolment form, checked and normalised."""

import re
from dataclasses import dataclass
from typing import cast

from flask import current_app
from flask_babel import gettext, lazy_gettext

from services.core.errors import InvalidInput, Refusals
from services.core.languages import shipped
from services.core.validation import clean_country, clean_full_name, clean_phone, clean_text, normalise_email

ORGANISATION_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2000
_COHORT_ID = re.compile(r"[0-9]{1,9}")
CHOOSE_A_COHORT = lazy_gettext("Choose one of the dates offered.")


@dataclass(frozen=True)
class EnrollmentInput:
    """The raw values, as typed."""

    cohort: str | None
    full_name: str | None
    email: str | None
    phone: str | None = None
    country: str | None = None
    organisation: str | None = None
    note: str | None = None
    newsletter: bool = False
    language: str | None = None  # the language of the form: the reader's course mail is in it


@dataclass(frozen=True)
class EnrollmentDetails:
    full_name: str
    email: str
    phone: str | None
    country: str | None
    organisation: str | None
    note: str | None
    language: str | None


def cohort_id(raw: str | None) -> int:
    value = (raw or "").strip()
    if not _COHORT_ID.fullmatch(value):
        raise InvalidInput("cohort", str(CHOOSE_A_COHORT))
    return int(value)


def _full_name(raw: str | None) -> str:
    full_name = clean_full_name(raw)
    if not full_name:
        raise InvalidInput("full_name", gettext("Enter your full name."))
    return full_name


def clean_details(form: EnrollmentInput) -> EnrollmentDetails:
    """Every field checked, its refusals raised together (the dates' among them)."""
    refusals = Refusals()
    full_name = refusals.check(_full_name, form.full_name)
    email = refusals.check(normalise_email, form.email,
                           check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"])
    phone = refusals.check(clean_phone, form.phone)
    country = refusals.check(clean_country, form.country)
    organisation = refusals.check(clean_text, form.organisation, field="organisation", label=gettext("Organisation"),
                                  max_length=ORGANISATION_MAX_LENGTH)
    note = refusals.check(clean_text, form.note, field="note", label=gettext("Your note"),
                          max_length=NOTE_MAX_LENGTH, multiline=True)
    refusals.check(cohort_id, form.cohort)
    refusals.raise_any()
    return EnrollmentDetails(
        full_name=cast(str, full_name),  # every check passed
        email=cast(str, email),
        phone=phone,
        country=country,
        organisation=organisation or None,
        note=note or None,
        language=shipped(form.language),
    )
