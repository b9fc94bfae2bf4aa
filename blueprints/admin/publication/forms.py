from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length

from blueprints.forms import Form


class PublicationForm(Form):
    name = StringField("Publication name", validators=[Length(max=200)])
    site_url = StringField("Site address", validators=[Length(max=2000)])
    logo = FileField("Logo")
    remove_logo = BooleanField("Remove the logo")
    accent_colour = StringField("Accent colour", validators=[Length(max=7)])
    sender_name = StringField("Sender name", validators=[Length(max=200)])
    postal_address = TextAreaField("Postal address", validators=[Length(max=500)])
