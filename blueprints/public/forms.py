from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from services.core.validation import FULL_NAME_MAX_LENGTH


class AddressForm(FlaskForm):
    """An email address typed by anyone, with a honeypot for bots."""

    class Meta:
        # CSRFProtect checks the token of every POST before the view runs; the form's own
        # copy would check it again and sign a fresh token on every sign-up.
        # Templates render the token with csrf_token().
        csrf = False

    email = StringField("Email Address", validators=[
        InputRequired("Enter your email address."), Length(max=254, message="That email address is too long."),
    ])
    # Honeypot: hidden from people, filled in by naive bots.
    website = StringField("Leave this field empty")

    def filled_by_bot(self) -> bool:
        return bool(self.website.data)


class SubscribeForm(AddressForm):
    full_name = StringField("Full Name", validators=[
        Length(max=FULL_NAME_MAX_LENGTH, message=f"Full name can be at most {FULL_NAME_MAX_LENGTH} characters."),
    ])
    list = HiddenField()
    source = HiddenField()


class EraseForm(FlaskForm):
    confirm = BooleanField("I understand that erasure cannot be undone",
                           validators=[DataRequired("Tick the box to confirm: erasure cannot be undone.")])
