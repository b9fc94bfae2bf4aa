from wtforms import (
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length

from blueprints.forms import Form
from models import StaffRole
from services.staff.staff import PASSWORD_MAX_LENGTH


class SignInForm(Form):
    email = StringField("Email", validators=[InputRequired("Enter your email address."), Length(max=320)])
    password = PasswordField("Password", validators=[
        InputRequired("Enter your password."), Length(max=PASSWORD_MAX_LENGTH)])

class PasswordChangeForm(Form):
    current_password = PasswordField("Current password", validators=[
        InputRequired("Enter your current password."), Length(max=PASSWORD_MAX_LENGTH)])
    new_password = PasswordField("New password", validators=[
        InputRequired("Enter a new password."), Length(max=PASSWORD_MAX_LENGTH)])
    confirm_password = PasswordField("New password again", validators=[
        InputRequired("Enter the new password again."),
        EqualTo("new_password", "The two new passwords differ.")])

class StaffForm(Form):
    email = StringField("Email", validators=[InputRequired("Enter an email address."), Length(max=320)])
    # The smaller role by default: owning the console is a choice made on purpose.
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.title()) for r in StaffRole],
                       default=StaffRole.EDITOR.value)
    password = PasswordField("Initial password", validators=[
        InputRequired("Enter a password."), Length(max=PASSWORD_MAX_LENGTH)])
