from wtforms import (
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from blueprints.forms import Form
from models import ApiTokenScope
from models.api_tokens import LABEL_MAX_LENGTH


class ApiTokenForm(Form):
    label = StringField("Label", validators=[InputRequired("Say what the token is for."),
                                             Length(max=LABEL_MAX_LENGTH)])
    owner = SelectField("Acts for", validators=[InputRequired("Choose a staff member.")])
    scope = SelectField("Scope", choices=[SelectChoice(s.value, s.value) for s in ApiTokenScope])
