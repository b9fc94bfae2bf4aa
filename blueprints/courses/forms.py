from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from services.core.validation import FULL_NAME_MAX_LENGTH, PHONE_MAX_LENGTH, countries
from services.courses.enrollment_details import ORGANISATION_MAX_LENGTH


class EnrollForm(FlaskForm):
    # Radios or a hidden input, drawn by the template; the service checks the value.
    cohort = StringField("Dates")
    # The service checks every field at once, so a person sees all the refusals together;
    # maxlength only stops a browser from taking more than the service would.
    full_name = StringField("Full name", render_kw={"maxlength": FULL_NAME_MAX_LENGTH})
    email = StringField("Email address", render_kw={"maxlength": 254})
    phone = StringField("Phone", render_kw={"maxlength": PHONE_MAX_LENGTH})
    country = SelectField("Country", validate_choice=False, choices=[
        SelectChoice("", "(choose a country)"), *(SelectChoice(code, name) for code, name in countries())])
    organisation = StringField("Organisation", render_kw={"maxlength": ORGANISATION_MAX_LENGTH})
    # Its length is checked after line endings are normalised, by the service.
    note = TextAreaField("Why would you like to join?")
    newsletter = BooleanField(default=False)
    # Honeypot: hidden from people, filled in by naive bots.
    website = StringField("Leave this field empty")

    def filled_by_bot(self) -> bool:
        return bool(self.website.data)
