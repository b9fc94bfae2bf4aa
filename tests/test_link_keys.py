"""A mailed link acts only on the row it was issued for, even once that row's id names
another row: SQLite hands the newest ids out again after an erasure deletes them, and a
restored backup or a moved database can reuse any id."""

from sqlalchemy import func, select, text

from extensions import db
from models import Cohort, ConsentEvent, Enrollment, OutboxMessage, Subscriber, Subscription, SubscriptionStatus
from services.core.tokens import Purpose, make_token
from services.courses import enrollments
from services.subscriptions import subscriptions
from tests.courses.test_enrollments import enrol, form
from tests.privacy.test_privacy_self_service import erase, privacy_path
from tests.support import link_path

ADA, BEA = "ada@example.com", "bea@example.com"
# Everything a link could change about a reader.
WATCHED = (Subscriber, Subscription, Enrollment, ConsentEvent, OutboxMessage, Cohort)


def every_watched_row() -> dict[str, list[tuple]]:
    db.session.commit()
    with db.engine.connect() as connection:
        return {model.__tablename__: sorted(map(tuple, connection.execute(select(model.__table__))), key=str)
                for model in WATCHED}


def ids_of(email: str) -> tuple[int, int, int]:
    """The reader's subscriber, subscription and enrolment ids."""
    return db.session.execute(
        select(Subscriber.id, Subscription.id, Enrollment.id)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .join(Enrollment, func.lower(Enrollment.email) == func.lower(Subscriber.email))
        .where(Subscriber.email == email)).one()._tuple()


def next_ids_are(ids: tuple[int, int, int]) -> None:
    """PostgreSQL's sequences never hand an id out twice; set them back, as a restored
    backup would, so that the next rows take these ids. SQLite needs no help."""
    if db.engine.dialect.name != "postgresql":
        return
    for table, next_id in zip(("subscribers", "subscriptions", "enrollments"), ids, strict=True):
        db.session.execute(text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :id, false)"),
                           {"table": table, "id": next_id})
    db.session.commit()


def replay(client, method: str, path: str):
    if path.startswith("/preferences/"):
        return client.post(path, data={})  # the preferences form with every list unticked
    return client.get(path) if method == "GET" else client.post(path)


def assert_refused(response) -> None:
    assert response.status_code == 400
    assert "This link does not work" in response.text
    assert "This link is no longer valid." in response.text


def test_an_erased_readers_links_do_nothing_to_the_reader_given_their_ids(app, client, newsletter, make_cohort,
                                                                          origin, deliver):
    app.config["OPT_IN_MAIL_MIN_INTERVAL_SECONDS"] = 0
    cohort = make_cohort()
    subscriptions.subscribe(ADA, "Ada Reader", origin)
    subscriptions.subscribe(ADA, "Ada Reader", origin)  # the second mail's links name the rows the first made
    enrollments.enroll(cohort.course.slug, form(cohort, ADA), origin)
    *newsletter_mails, course_mail = deliver(3)
    links = [link_path(mail, kind) for mail in newsletter_mails for kind in ("confirm", "unsubscribe")]
    links += [link_path(course_mail, f"enrollments/{kind}") for kind in ("confirm", "cancel", "stop-mail")]
    assert [client.get(path).status_code for path in links] == [200] * 7  # each opens Ada's row
    # The preferences form posts the unsubscribe link's token.
    links += [path.replace("/unsubscribe/", "/preferences/") for path in links if "/unsubscribe/" in path]
    adas_ids = ids_of(ADA)

    assert erase(client, privacy_path(ADA)).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0
    next_ids_are(adas_ids)
    subscriptions.subscribe(BEA, "Bea Reader", origin)
    enrollments.enroll(cohort.course.slug, form(cohort, BEA), origin)
    assert ids_of(BEA) == adas_ids
    before = every_watched_row()

    for path in links:
        for method in ("GET", "POST"):
            assert_refused(replay(client, method, path))

    assert every_watched_row() == before  # Bea's pending sign-up and enrolment, her consent, her mail
    beas_mail = deliver(5)[3]
    assert client.post(link_path(beas_mail, "confirm")).status_code == 200  # Bea's own link works
    assert db.session.scalars(select(Subscription.status)).one() == SubscriptionStatus.CONFIRMED


def test_links_signed_before_rows_had_keys_are_refused(client, newsletter, make_cohort, origin):
    """Such a link names a bare id, which cannot be told apart from an id since given to
    someone else; the reader uses a newer mail's link or asks again."""
    subscriptions.subscribe(ADA, "Ada Reader", origin)
    subscription = db.session.scalars(select(Subscription)).one()
    enrollment = enrol(make_cohort(), ADA, origin)
    leave = make_token(Purpose.UNSUBSCRIBE, {"subscriber": subscription.subscriber_id, "list": subscription.list_id})
    links = [
        f"/confirm/{make_token(Purpose.CONFIRM_SUBSCRIPTION, {'subscription': subscription.id})}",
        f"/unsubscribe/{leave}", f"/preferences/{leave}",
        f"/enrollments/confirm/{make_token(Purpose.CONFIRM_ENROLLMENT, {'enrollment': enrollment.id})}",
        f"/enrollments/cancel/{make_token(Purpose.CANCEL_ENROLLMENT, {'enrollment': enrollment.id})}",
        f"/enrollments/stop-mail/{make_token(Purpose.STOP_COURSE_MAIL, {'enrollment': enrollment.id})}",
    ]
    before = every_watched_row()

    for path in links:
        for method in ("GET", "POST"):
            assert_refused(replay(client, method, path))
    assert every_watched_row() == before


def link_keys() -> list[str]:
    db.session.expire_all()
    return [key for model in (Subscriber, Subscription, Enrollment)
            for key in db.session.scalars(select(model.link_key).order_by(model.id))]


def test_every_row_a_link_names_gets_its_own_key_and_keeps_it(newsletter, make_cohort, origin):
    cohort = make_cohort()
    for email in (ADA, BEA):
        subscriptions.subscribe(email, "", origin)
        enrol(cohort, email, origin)
    keys = link_keys()
    assert len(set(keys)) == 6 and all(len(key) == 16 for key in keys)

    subscriptions.subscribe(ADA, "Ada Reader", origin)
    enrol(cohort, ADA, origin, full_name="Ada Reader")
    assert link_keys() == keys
