from flask_babel import lazy_gettext as _l
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

    email = StringField(_l("Email Address"), validators=[
        InputRequired(_l("Enter your email address.")), Length(max=254, message=_l("That email address is too long.")),
    ])
    # Honeypot: hidden from people, filled in by naive bots.
    website = StringField(_l("Leave this field empty"))

    def filled_by_bot(self) -> bool:
        return bool(self.website.data)


class SubscribeForm(AddressForm):
    full_name = StringField(_l("Full Name"), validators=[
        Length(max=FULL_NAME_MAX_LENGTH,
               message=_l("Full name can be at most %(count)s characters.", count=FULL_NAME_MAX_LENGTH)),
    ])
    list = HiddenField()
    source = HiddenField()


class EraseForm(FlaskForm):
    confirm = BooleanField(_l("I understand that erasure cannot be undone"),
                           validators=[DataRequired(_l("Tick the box to confirm: erasure cannot be undone."))])
