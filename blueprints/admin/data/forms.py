from __future__ import annotations

from collections.abc import Sequence

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from blueprints.forms import Form
from models import MailingList
from services.data.exports import STATUSES


def _list_choices(mailing_lists: Sequence[MailingList], empty: str) -> list[SelectChoice]:
    return [SelectChoice("", empty)] + [SelectChoice(m.slug, m.name) for m in mailing_lists]


class ExportForm(Form):
    """A GET form for the CSV link: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    list = SelectField("List", validators=[Optional()])
    status = SelectMultipleField("Statuses", validators=[Optional()],
                                 choices=[SelectChoice(s, s.title()) for s in STATUSES])
    bom = BooleanField("Start with a byte order mark (for Excel)", false_values=("", "0"))

    def with_lists(self, mailing_lists: Sequence[MailingList]) -> ExportForm:
        self.list.choices = _list_choices(mailing_lists, "Every list")
        return self


class ImportUploadForm(Form):
    file = FileField("File", validators=[FileRequired("Choose a file to import.")])
    list = SelectField("Import into list", validators=[Optional()])

    def with_lists(self, mailing_lists: Sequence[MailingList]) -> ImportUploadForm:
        self.list.choices = _list_choices(mailing_lists, "The default list")
        return self
