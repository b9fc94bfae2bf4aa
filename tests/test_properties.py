"""Property tests: whatever a form or the importer receives, no 500 and no half-written rows."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from extensions import db
from models import (
    Cohort,
    ConsentAction,
    ConsentEvent,
    Enrollment,
    ImportJob,
    ImportStatus,
    OutboxMessage,
    Subscriber,
    Subscription,
)
from services.core.audit import CLI
from services.core.errors import InvalidInput
from services.data import imports
from tests.courses.test_courses_views import post_enroll
from tests.support import csrf_token

FORM_SETTINGS = settings(max_examples=80, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=400)
address_like = st.builds(lambda local, domain: f"{local}@{domain}", any_text, any_text)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assert_nothing_half_written() -> None:
    db.session.rollback()
    subscribers = count(Subscriber)
    assert count(Subscription) == subscribers  # one list: one subscription per subscriber
    assert count(ConsentEvent) >= subscribers
    assert count(OutboxMessage) <= subscribers


@FORM_SETTINGS
@given(email=st.one_of(any_text, address_like), full_name=any_text, honeypot=st.sampled_from(["", "x"]))
def test_subscribe_form_never_fails_on_arbitrary_text(client, newsletter, email, full_name, honeypot):
    response = client.post("/subscribe", data={"csrf_token": csrf_token(client), "email": email,
                                               "full_name": full_name, "website": honeypot})
    assert response.status_code in (303, 400)
    assert_nothing_half_written()


@FORM_SETTINGS
@given(body=st.binary(max_size=2000))
def test_subscribe_form_never_fails_on_arbitrary_bytes(client, newsletter, body):
    token = csrf_token(client).encode()
    response = client.post("/subscribe", data=b"csrf_token=" + token + b"&email=" + body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (303, 400)
    assert_nothing_half_written()


@FORM_SETTINGS
@given(fields=st.fixed_dictionaries({}, optional={
    name: any_text for name in ("full_name", "email", "phone", "country", "organisation", "note", "cohort")
}), newsletter_box=st.booleans())
def test_enrol_form_never_fails_on_arbitrary_text(client, newsletter, make_cohort, fields, newsletter_box):
    cohort = db.session.scalar(select(Cohort)) or make_cohort(capacity=2)
    data = {"cohort": str(cohort.id), **fields, **({"newsletter": "y"} if newsletter_box else {})}
    response = post_enroll(client, cohort, **data)
    assert response.status_code in (303, 400)
    db.session.rollback()
    enrolled = set(db.session.scalars(select(Enrollment.id)))
    consented = set(db.session.scalars(select(ConsentEvent.enrollment_id).where(
        ConsentEvent.action == ConsentAction.ENROLL_REQUESTED)))
    assert enrolled == consented  # every enrolment row came with its consent event, none without


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(
    st.binary(max_size=3000),
    st.builds(lambda rows: "email,name\n" + "\n".join(rows),
              st.lists(st.builds(lambda a, b: f"{a},{b}", any_text, any_text), max_size=20)),
))
def test_importer_refuses_cleanly_or_imports_whole(app, newsletter, tmp_path_factory, content):
    path = tmp_path_factory.mktemp("import") / "upload.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    before = count(Subscriber)
    try:
        job_id = imports.create_job(str(path), CLI)
    except InvalidInput:  # a clear refusal, and nothing written
        db.session.rollback()
        assert count(Subscriber) == before and count(ImportJob) == 0
        return
    job = imports.run_import(job_id)
    assert job.status == ImportStatus.DONE
    assert job.created_count + job.updated_count + job.skipped_count + job.invalid_count == job.total_rows
    db.session.rollback()
    db.session.execute(delete(ImportJob))
    db.session.commit()
