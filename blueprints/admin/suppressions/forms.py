from wtforms import StringField
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import Form
from services.console.suppression_admin import NOTE_LENGTH
from services.mail.suppression import SEARCH_LENGTH


class SuppressionSearchForm(Form):
    """A GET form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField("Search addresses", validators=[Optional(), Length(max=SEARCH_LENGTH)])


class SuppressionAddForm(Form):
    email = StringField("Email address", validators=[InputRequired("Enter the address to suppress."),
                                                     Length(max=320)])
    note = StringField("Why", validators=[Optional(), Length(max=NOTE_LENGTH)])
