from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from services.validation import FULL_NAME_MAX_LENGTH


class SubscribeForm(FlaskForm):
    full_name = StringField("Full Name", validators=[
        Length(max=FULL_NAME_MAX_LENGTH, message=f"Full name can be at most {FULL_NAME_MAX_LENGTH} characters."),
    ])
    email = StringField("Email Address", validators=[
        InputRequired("Enter your email address."), Length(max=254, message="That email address is too long."),
    ])
    list = HiddenField()
    source = HiddenField()
    # Honeypot: hidden from people, filled in by naive bots.
    website = StringField("Leave this field empty")

    def filled_by_bot(self) -> bool:
        return bool(self.website.data)
