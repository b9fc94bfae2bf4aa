from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from blueprints.forms import Form
from services.core.validation import FULL_NAME_MAX_LENGTH


class AddressForm(Form):
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


class ListSlugsField(HiddenField):
    """The lists a sign-up asks for, by slug, each once: a one-list form's hidden field, or
    the public lists ticked (each ticked box posts one `list`)."""

    def process_data(self, value):
        self.data = self._slugs([value] if isinstance(value, str) else value or [])

    def process_formdata(self, valuelist):
        self.data = self._slugs(valuelist)

    def _value(self):
        return self.data[0] if self.data else ""

    @staticmethod
    def _slugs(values) -> list[str]:
        return list(dict.fromkeys(value for value in values if value))


class SubscribeForm(AddressForm):
    full_name = StringField(_l("Full Name"), validators=[
        Length(max=FULL_NAME_MAX_LENGTH,
               message=_l("Full name can be at most %(count)s characters.", count=FULL_NAME_MAX_LENGTH)),
    ])
    list = HiddenField()
    source = HiddenField()


class HostedSubscribeForm(SubscribeForm):
    """The form on our own page, which may offer several public lists to tick."""

    list = ListSlugsField()
    # Posted by the form that offers public lists as boxes, where none ticked is a mistake; a
    # one-list form leaves `list` empty for the default list.
    lists_offered = HiddenField()

    def named_list(self) -> str | None:
        """The one list the form is for, if it names one (a form of boxes names none)."""
        return self.list.data[0] if len(self.list.data) == 1 and not self.lists_offered.data else None

    def validate_list(self, field):
        if self.lists_offered.data and not field.data:
            raise ValidationError(_l("Choose at least one newsletter."))


class EraseForm(Form):
    confirm = BooleanField(_l("I understand that erasure cannot be undone"),
                           validators=[DataRequired(_l("Tick the box to confirm: erasure cannot be undone."))])
