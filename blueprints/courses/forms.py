from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from services.core.validation import FULL_NAME_MAX_LENGTH, PHONE_MAX_LENGTH, countries
from services.courses.enrollment_details import ORGANISATION_MAX_LENGTH


class EnrollForm(FlaskForm):
    # Radios or a hidden input, drawn by the template; the service checks the value.
    cohort = StringField("Dates")
    full_name = StringField("Full name", validators=[
        InputRequired("Enter your full name."),
        Length(max=FULL_NAME_MAX_LENGTH, message=f"Full name can be at most {FULL_NAME_MAX_LENGTH} characters."),
    ])
    email = StringField("Email address", validators=[
        InputRequired("Enter your email address."), Length(max=254, message="That email address is too long."),
    ])
    phone = StringField("Phone", validators=[
        Length(max=PHONE_MAX_LENGTH, message=f"A phone number can be at most {PHONE_MAX_LENGTH} characters."),
    ])
    country = SelectField("Country", validate_choice=False, choices=[
        SelectChoice("", "(choose a country)"), *(SelectChoice(code, name) for code, name in countries())])
    organisation = StringField("Organisation", validators=[
        Length(max=ORGANISATION_MAX_LENGTH,
               message=f"Organisation can be at most {ORGANISATION_MAX_LENGTH} characters."),
    ])
    # Its length is checked after line endings are normalised, by the service.
    note = TextAreaField("Why would you like to join?")
    newsletter = BooleanField(default=False)
    # Honeypot: hidden from people, filled in by naive bots.
    website = StringField("Leave this field empty")

    def filled_by_bot(self) -> bool:
        return bool(self.website.data)
