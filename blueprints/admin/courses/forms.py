"""Forms for courses and cohorts. Field names are the ones services.courses.courses names in
its errors (and the CLI options), so an error lands beside its field; the service
checks the values, these fields only parse them."""

from datetime import datetime
from zoneinfo import ZoneInfo

from wtforms import BooleanField, DateField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import Form
from models import Cohort, Course, CourseFormat
from services.core.money import fee_amount
from services.courses.courses import CohortFields, CourseFields

LOCAL_MINUTES = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
FORMAT_LABELS = {CourseFormat.ONLINE: "Online", CourseFormat.IN_PERSON: "In person"}


class CourseForm(Form):
    title = StringField("Title", validators=[InputRequired("Give the course a title."), Length(max=200)])
    slug = StringField("Slug", validators=[InputRequired("Enter a slug."), Length(max=80)])
    summary = StringField("Summary", validators=[Length(max=500)])
    description = TextAreaField("Description", validators=[Length(max=20_000)])
    format = SelectField("Format", choices=[SelectChoice(f.value, label) for f, label in FORMAT_LABELS.items()])
    weeks = IntegerField("Duration in weeks", validators=[InputRequired("Give the duration in weeks.")])
    fee = StringField("Fee", validators=[Length(max=20)])
    currency = StringField("Currency", validators=[InputRequired("Give a currency code."), Length(max=3)])
    contact = StringField("Contact email", validators=[InputRequired("Give an address for questions."),
                                                       Length(max=320)])
    published = BooleanField("Published: listed on /courses and open to enrolment")

    @classmethod
    def of(cls, course: Course) -> "CourseForm":
        return cls(data={
            "title": course.title, "slug": course.slug, "summary": course.summary,
            "description": course.description, "format": course.format.value, "weeks": course.duration_weeks,
            "fee": fee_amount(course.fee_minor, course.currency), "currency": course.currency,
            "contact": course.contact_email, "published": course.is_published})

    def fields(self) -> CourseFields:
        return CourseFields(slug=self.slug.data, title=self.title.data, contact_email=self.contact.data,
                            duration_weeks=self.weeks.data, summary=self.summary.data,
                            description=self.description.data, course_format=self.format.data,
                            fee=self.fee.data, currency=self.currency.data, published=self.published.data)


class CohortForm(Form):
    label = StringField("Label", validators=[InputRequired("Give the cohort a label."), Length(max=120)])
    starts = DateField("First day", validators=[InputRequired("Give the first day.")])
    ends = DateField("Last day", validators=[InputRequired("Give the last day.")])
    # What browsers send for datetime-local, minutes first so that it is drawn that way.
    opens = DateTimeLocalField("Enrolment opens", format=LOCAL_MINUTES, validators=[Optional()])
    closes = DateTimeLocalField("Enrolment closes", format=LOCAL_MINUTES, validators=[Optional()])
    capacity = IntegerField("Capacity", validators=[Optional()])
    timezone = StringField("Timezone", validators=[InputRequired("Give a timezone."), Length(max=64)])

    @classmethod
    def of(cls, cohort: Cohort) -> "CohortForm":
        zone = ZoneInfo(cohort.timezone)

        def local(moment: datetime) -> datetime:
            return moment.astimezone(zone).replace(tzinfo=None)

        return cls(data={
            "label": cohort.label, "starts": cohort.starts_on, "ends": cohort.ends_on,
            "opens": local(cohort.enrolment_opens_at), "closes": local(cohort.enrolment_closes_at),
            "capacity": cohort.capacity, "timezone": cohort.timezone})

    def fields(self) -> CohortFields:
        return CohortFields(label=self.label.data, starts_on=self.starts.data, ends_on=self.ends.data,
                            enrolment_opens_at=self.opens.data, enrolment_closes_at=self.closes.data,
                            capacity=self.capacity.data, timezone=self.timezone.data)
