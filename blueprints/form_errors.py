"""A service's refusal shown on the form where the person who sent it will see it."""

from wtforms import Form

from services.errors import InvalidInput

# Fields a person never sees: an error on one would show nowhere.
_UNSEEN_FIELDS = frozenset({"HiddenField", "CSRFTokenField"})


def show_error(form: Form, error: InvalidInput) -> None:
    """Beside the field the error names when the form shows that field; otherwise at the
    top of the form, in its error summary."""
    field = form._fields.get(error.field)
    if field is not None and field.type not in _UNSEEN_FIELDS:
        field.errors.append(error.message)
    else:
        form.form_errors.append(error.message)
