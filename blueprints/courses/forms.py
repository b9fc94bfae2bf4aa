from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from blueprints.forms import Form
from services.core.validation import FULL_NAME_MAX_LENGTH, PHONE_MAX_LENGTH, countries
from services.courses.enrollment_details import ORGANISATION_MAX_LENGTH


class EnrollForm(Form):
    # Radios or a hidden input, drawn by the template; the service checks the value.
    cohort = StringField(_l("Dates"))
    # The service checks every field at once, so a person sees all the refusals together;
    # maxlength only stops a browser from taking more than the service would.
    full_name = StringField(_l("Full name"), render_kw={"maxlength": FULL_NAME_MAX_LENGTH})
    email = StringField(_l("Email address"), render_kw={"maxlength": 254})
    phone = StringField(_l("Phone"), render_kw={"maxlength": PHONE_MAX_LENGTH})
    # Its choices are the countries named in the reader's language (set per form).
    country = SelectField(_l("Country"), validate_choice=False)
    organisation = StringField(_l("Organisation"), render_kw={"maxlength": ORGANISATION_MAX_LENGTH})
    # Its length is checked after line endings are normalised, by the service.
    note = TextAreaField(_l("Why would you like to join?"))
    newsletter = BooleanField(default=False)
    # Honeypot: hidden from people, filled in by naive bots.
    website = StringField(_l("Leave this field empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", gettext("(choose a country)")),
                                *(SelectChoice(code, name) for code, name in countries())]

    def filled_by_bot(self) -> bool:
        return bool(self.website.data)
