import click
from flask.cli import AppGroup

from models import CourseFormat
from services.core.errors import InvalidInput
from services.courses import courses

courses_cli = AppGroup("courses", help="Courses in the catalogue.")
cohorts_cli = AppGroup("cohorts", help="Dated runs of a course.")
MOMENT = click.DateTime(["%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"])


def _fail(error: InvalidInput) -> click.ClickException:
    return click.ClickException(f"--{error.field}: {error.message}")


@courses_cli.command("create")
@click.option("--slug", required=True, help="Address part: /courses/<slug>.")
@click.option("--title", required=True)
@click.option("--contact", "contact_email", required=True, help="Email address for questions.")
@click.option("--weeks", "duration_weeks", type=int, required=True, help="Duration in weeks.")
@click.option("--summary", default="", help="One or two sentences for the list of courses.")
@click.option("--description-file", type=click.File(encoding="utf-8"), help="Markdown description.")
@click.option("--format", "course_format", type=click.Choice([f.value for f in CourseFormat]),
              default=CourseFormat.ONLINE.value, show_default=True)
@click.option("--fee", default="0", show_default=True, help="Amount such as 290.00; 0 means free.")
@click.option("--currency", default="EUR", show_default=True, help="ISO 4217 code.")
@click.option("--publish/--draft", default=False, show_default=True, help="Show it on /courses.")
def create_course(description_file, publish, **fields) -> None:
    """Create a course."""
    try:
        course = courses.create_course(courses.CourseFields(
            description=description_file.read() if description_file else "", published=publish, **fields))
    except InvalidInput as error:
        raise _fail(error) from None
    click.echo(f"created course {course.slug!r} ({'published' if publish else 'draft'})")


@cohorts_cli.command("create")
@click.option("--course", "course_slug", required=True, help="The course's slug.")
@click.option("--label", required=True, help="e.g. 'Spring 2027'.")
@click.option("--starts", "starts_on", type=click.DateTime(["%Y-%m-%d"]), required=True, help="YYYY-MM-DD")
@click.option("--ends", "ends_on", type=click.DateTime(["%Y-%m-%d"]), required=True, help="YYYY-MM-DD")
@click.option("--capacity", type=click.IntRange(min=1), help="Seats; unlimited if left out.")
@click.option("--opens", "enrolment_opens_at", type=MOMENT, help="Enrolment opens (default: now).")
@click.option("--closes", "enrolment_closes_at", type=MOMENT,
              help="Enrolment closes (default: when the cohort starts).")
@click.option("--timezone", default="UTC", show_default=True, help="IANA timezone of the dates and times.")
def create_cohort(course_slug, starts_on, ends_on, **fields) -> None:
    """Create a cohort of a course."""
    try:
        cohort = courses.create_cohort(course_slug, courses.CohortFields(
            starts_on=starts_on.date(), ends_on=ends_on.date(), **fields))
    except InvalidInput as error:
        raise _fail(error) from None
    seats = "unlimited seats" if cohort.capacity is None else f"{cohort.capacity} seats"
    click.echo(f"created cohort {cohort.id} {cohort.label!r} of {course_slug!r}, {seats}")
