"""Fixtures: the app on a real database (SQLite, or TEST_DATABASE_URL for
PostgreSQL), a real SMTP sink, clients and factories."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text

from app import create_app
from extensions import db
from models import Base, Cohort, Course, MailingList
from models.base import utcnow
from services.mail.outbox_worker import drain
from services.subscriptions.consent import ConsentOrigin
from tests.smtp_sink import SMTPSink
from tests.support import ARTICLE_ORIGIN, STAFF_PASSWORD, TEST_DATABASE_URL, sign_in


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    # A file, not :memory:, so that threads share one database.
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'roster-test.sqlite3'}"


@pytest.fixture(scope="session")
def _schema(database_url):
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()


@pytest.fixture
def empty_database_url(tmp_path):
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    # A throwaway database beside the test one, so the suite's tables stay put.
    name = f"roster_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield TEST_DATABASE_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def spare_database(tmp_path):
    """Empty databases to restore or move into: make("sqlite" | "postgresql") gives one's URL.
    PostgreSQL ones sit beside the test database, named after it, and are dropped after."""
    server, test_name = (TEST_DATABASE_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/roster_test").rsplit("/", 1)
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    made = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'spare-{uuid.uuid4().hex[:8]}.sqlite3'}"
        name = f"{test_name}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return f"{server}/{name}"

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def migration_app(empty_database_url):
    """The app on an empty database of its own, for `flask db upgrade` to fill."""
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        yield app
        db.engine.dispose()


@pytest.fixture
def smtp_sink():
    sink = SMTPSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def app(database_url, _schema, smtp_sink, tmp_path):
    app = create_app({
        "APP_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "IMPORT_UPLOAD_DIR": str(tmp_path / "imports"),  # each test its own, so parallel runs never meet
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_sink.port,
        "MAIL_TIMEOUT": 5,
    })
    with app.app_context():
        yield app
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def newsletter(app):
    """The default public list."""
    mailing_list = MailingList(slug="updates", name="International Relations Updates",
                               description="Weekly analysis.", is_public=True, is_default=True)
    db.session.add(mailing_list)
    db.session.commit()
    return mailing_list


@pytest.fixture
def make_list(app):
    def make(slug: str, *, public: bool = True, name: str | None = None) -> MailingList:
        mailing_list = MailingList(slug=slug, name=name or slug.title(), is_public=public)
        db.session.add(mailing_list)
        db.session.commit()
        return mailing_list

    return make


@pytest.fixture
def origin() -> ConsentOrigin:
    return ConsentOrigin(form="test", ip="192.0.2.1", user_agent="pytest",
                         source_url="https://news.example/article", wording_version="subscribe-v1")


@pytest.fixture
def deliver(smtp_sink):
    """Drain the outbox into the SMTP sink and return every mail it holds."""

    def run(expected: int | None = None):
        drain()
        if expected is not None:
            return smtp_sink.wait_for(expected)
        return list(smtp_sink.messages)

    return run


@pytest.fixture
def make_staff(app):
    """Create a staff account through the service (as the command line would)."""
    from models import StaffRole
    from services.core.audit import CLI
    from services.staff import staff

    def make(email: str = "owner@example.com", role: str = "owner", password: str = STAFF_PASSWORD):
        return staff.create_staff(CLI, email, password, StaffRole(role))

    return make


@pytest.fixture
def staff_user(make_staff):
    """An owner account."""
    return make_staff()


@pytest.fixture
def signed_in_client(client, staff_user):
    """The test client, signed in as the owner `staff_user`."""
    assert sign_in(client, staff_user.email).status_code == 303
    return client


@pytest.fixture
def make_cohort(app):
    """A cohort of a published online course (one course per slug), taking enrolments
    by default: opened yesterday, closing when it starts."""

    def make(*, capacity: int | None = 10, starts_in_days: int = 30, opened_days_ago: int = 1,
             closes_in_days: int | None = None, course_slug: str = "ir-certificate",
             label: str | None = None, seats_taken: int = 0) -> Cohort:
        course = db.session.scalar(select(Course).where(Course.slug == course_slug))
        if course is None:
            course = Course(slug=course_slug, title=f"Course {course_slug}", summary="A test course.",
                            description="Six weeks of **reading**.", duration_weeks=6, fee_minor=24900,
                            currency="EUR", contact_email="courses@example.org", is_published=True)
            db.session.add(course)
        now = utcnow()
        starts_on = (now + timedelta(days=starts_in_days)).date()
        opens = now - timedelta(days=opened_days_ago)
        closes = now + timedelta(days=closes_in_days) if closes_in_days is not None else \
            now + timedelta(days=starts_in_days - 1)
        cohort = Cohort(course=course, label=label or f"Cohort {starts_on}", starts_on=starts_on,
                        ends_on=starts_on + timedelta(weeks=6), enrolment_opens_at=opens,
                        enrolment_closes_at=max(closes, opens + timedelta(seconds=1)),
                        capacity=capacity, timezone="UTC", seats_taken=seats_taken)
        db.session.add(cohort)
        db.session.commit()
        return cohort

    return make


@pytest.fixture
def embed_origins(app):
    """The article site news.example may embed the form."""
    app.config["EMBED_ALLOWED_ORIGINS"] = [ARTICLE_ORIGIN]
    return [ARTICLE_ORIGIN]


@pytest.fixture
def issue_api_token(app):
    """Make a staff member (once per email) and an API token for them; returns the plain token."""
    from models import StaffUser
    from services.core.audit import CLI
    from services.staff import api_tokens

    def issue(scope: str = "read", email: str = "staff@example.com") -> str:
        if db.session.scalar(select(StaffUser).where(StaffUser.email == email)) is None:
            db.session.add(StaffUser(email=email, password_hash="not-used-by-the-api"))
            db.session.commit()
        return api_tokens.create(email, api_tokens.parse_scope(scope), CLI).token

    return issue


@pytest.fixture
def readers(app):
    """Add `count` subscribers to a list in one status (confirmed by default); their ids."""
    from models import Subscriber, Subscription, SubscriptionStatus

    def add(mailing_list: MailingList, count: int, *, status: str = "confirmed", prefix: str = "reader") -> list[int]:
        people = [Subscriber(email=f"{prefix}{n}@example.com", full_name=f"Reader {n}") for n in range(count)]
        db.session.add_all(people)
        db.session.flush()
        db.session.add_all([Subscription(subscriber_id=person.id, list_id=mailing_list.id,
                                         status=SubscriptionStatus(status)) for person in people])
        db.session.commit()
        return [person.id for person in people]

    return add


@pytest.fixture
def make_campaign(app):
    """A draft newsletter to a list, made through the service."""
    from services.core.audit import CLI
    from services.newsletters import campaigns

    def make(mailing_list: MailingList, *, subject: str = "The week in review",
             body: str = "Hello **readers**. Read [the analysis](https://news.example/analysis).",
             preheader: str = "Five things to know") -> int:
        return campaigns.create(CLI, campaigns.CampaignFields(mailing_list.id, subject, preheader, body)).id

    return make
