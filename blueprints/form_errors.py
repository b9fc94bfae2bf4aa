"""A service's refusal shown on the form where the person who sent it will see it."""

from wtforms import Form

from services.core.errors import InvalidInput


def show_error(form: Form, error: InvalidInput) -> None:
    """Each of the refusals on the field it names (the form's error summary also shows
    the errors of fields nobody sees, such as a hidden list); on the whole form when no
    field has that name."""
    for refusal in error.errors:
        field = form._fields.get(refusal.field)
        if field is not None:
            field.errors = [*field.errors, refusal.message]  # a form never validated has a tuple
        else:
            form.form_errors.append(refusal.message)
