from wtforms import (
    BooleanField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length

from blueprints.forms import Form
from services.core.languages import LANGUAGES


class ListForm(Form):
    name = StringField("Name", validators=[InputRequired("Enter a name."), Length(max=200)])
    slug = StringField("Slug", validators=[InputRequired("Enter a slug."), Length(max=80)])
    description = TextAreaField("Description", validators=[Length(max=2000)])
    is_public = BooleanField("Public: offered on the hosted form, the embeds and the preferences page")
    welcome_text = TextAreaField("Welcome text", validators=[Length(max=10000)])
    mailchimp_account_id = StringField("Mailchimp account (u)", validators=[Length(max=40)])
    mailchimp_audience_id = StringField("Mailchimp audience (id)", validators=[Length(max=40)])
    # Checked by the service, which names the field if the value is not offered.
    language = SelectField("Language", choices=list(LANGUAGES.items()), validate_choice=False, default="en")
