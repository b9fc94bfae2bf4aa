"""Every console page reachable by GET, with ids to fill in its URL: shared by the
access-control test and the browser accessibility walk, so a new page joins both."""

from collections.abc import Iterator

from sqlalchemy import select

from extensions import db
from models import ImportJob, ImportStatus, MailingList, Subscriber, Suppression, SuppressionReason
from services.core.audit import CLI
from services.courses import enrollments
from services.courses.enrollment_details import EnrollmentInput
from services.newsletters import campaigns
from services.subscriptions import subscriptions

# Not console pages: downloads, and a newsletter's preview (the mail itself, framed by its page).
DOWNLOAD_SUFFIXES = (".csv", ".json", "/preview.html")


def seed_console(make_cohort, origin) -> dict[str, int]:
    """A subscriber, a list, a course with a cohort and an enrolment, an import job, a draft newsletter
    and a suppressed address."""
    subscriptions.subscribe("page@example.com", "Page Reader", origin)
    cohort = make_cohort()
    enrollments.enroll(cohort.course.slug, EnrollmentInput(cohort=str(cohort.id), full_name="Course Reader",
                                                           email="student@example.com"), origin)
    job = ImportJob(actor="owner@example.com", source_path="/nowhere.csv", filename="members.csv",
                    file_format="csv", status=ImportStatus.DONE)
    db.session.add(job)
    db.session.add(Suppression(address="bounced@example.com", reason=SuppressionReason.HARD_BOUNCE,
                               detail="550 5.1.1 user unknown", created_by="dsn"))
    db.session.commit()
    list_id = db.session.scalar(select(MailingList.id))
    campaign = campaigns.create(CLI, campaigns.CampaignFields(list_id, "This week", "In brief", "# News\n\nHello."))
    return {"subscriber_id": db.session.scalar(select(Subscriber.id)), "list_id": list_id, "campaign_id": campaign.id,
            "course_id": cohort.course_id, "cohort_id": cohort.id, "job_id": job.id}


def console_paths(app, ids: dict[str, int]) -> Iterator[tuple[str, str]]:
    """(endpoint, path) of every console GET route, the sign-in page first."""
    query = {"admin.enrollments_export": f"?cohort={ids['cohort_id']}"}
    yield "admin.login", "/admin/login"
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if rule.endpoint.startswith("admin.") and "GET" in rule.methods and rule.endpoint != "admin.login":
            path = rule.rule
            for argument in rule.arguments:
                path = path.replace(f"<int:{argument}>", str(ids[argument]))
            yield rule.endpoint, path + query.get(rule.endpoint, "")


def is_download(path: str) -> bool:
    return path.split("?", 1)[0].endswith(DOWNLOAD_SUFFIXES)
