from wtforms import (
    DateField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from blueprints.forms import Form
from models import SubscriptionStatus


class SubscriberFilterForm(Form):
    """A GET form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField("Search email or name", validators=[Optional(), Length(max=320)])
    list = SelectField("List", coerce=str, validators=[Optional()])
    status = SelectField("Status", validators=[Optional()], choices=[
        SelectChoice("", "Any status"), *[SelectChoice(s.value, s.value.title()) for s in SubscriptionStatus]])
    source = StringField("Source (article URL)", validators=[Optional(), Length(max=2000)])
    since = DateField("Signed up from", validators=[Optional()])
    until = DateField("Signed up until", validators=[Optional()])
