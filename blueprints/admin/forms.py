from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from models import ApiTokenScope, StaffRole, SubscriptionStatus
from models.api_tokens import LABEL_MAX_LENGTH
from services.staff import PASSWORD_MAX_LENGTH


class SignInForm(FlaskForm):
    email = StringField("Email", validators=[InputRequired("Enter your email address."), Length(max=320)])
    password = PasswordField("Password", validators=[
        InputRequired("Enter your password."), Length(max=PASSWORD_MAX_LENGTH)])


class SubscriberFilterForm(FlaskForm):
    """A GET form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    q = StringField("Search email or name", validators=[Optional(), Length(max=320)])
    list = SelectField("List", coerce=str, validators=[Optional()])
    status = SelectField("Status", validators=[Optional()], choices=[
        SelectChoice("", "Any status"), *[SelectChoice(s.value, s.value.title()) for s in SubscriptionStatus]])
    source = StringField("Source (article URL)", validators=[Optional(), Length(max=2000)])
    since = DateField("Signed up from", validators=[Optional()])
    until = DateField("Signed up until", validators=[Optional()])


class ListForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Enter a name."), Length(max=200)])
    slug = StringField("Slug", validators=[InputRequired("Enter a slug."), Length(max=80)])
    description = TextAreaField("Description", validators=[Length(max=2000)])
    is_public = BooleanField("Public: offered on the hosted form, the embeds and the preferences page")
    welcome_text = TextAreaField("Welcome text", validators=[Length(max=10000)])


class StaffForm(FlaskForm):
    email = StringField("Email", validators=[InputRequired("Enter an email address."), Length(max=320)])
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.title()) for r in StaffRole])
    password = PasswordField("Initial password", validators=[
        InputRequired("Enter a password."), Length(max=PASSWORD_MAX_LENGTH)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        InputRequired("Enter your current password."), Length(max=PASSWORD_MAX_LENGTH)])
    new_password = PasswordField("New password", validators=[
        InputRequired("Enter a new password."), Length(max=PASSWORD_MAX_LENGTH)])
    confirm_password = PasswordField("New password again", validators=[
        InputRequired("Enter the new password again."),
        EqualTo("new_password", "The two new passwords differ.")])


class ApiTokenForm(FlaskForm):
    label = StringField("Label", validators=[InputRequired("Say what the token is for."),
                                             Length(max=LABEL_MAX_LENGTH)])
    owner = SelectField("Acts for", validators=[InputRequired("Choose a staff member.")])
    scope = SelectField("Scope", choices=[SelectChoice(s.value, s.value) for s in ApiTokenScope])
