from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import Form


class CampaignForm(Form):
    list_id = SelectField("List", coerce=int, validators=[InputRequired("Choose a list.")])
    subject = StringField("Subject", validators=[InputRequired("Enter a subject."), Length(max=300)])
    preheader = StringField("Preheader", validators=[Length(max=300)])
    body_markdown = TextAreaField("Body (Markdown)", validators=[Length(max=200_000)])


class SendForm(Form):
    send_at = DateTimeLocalField("Send at (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
