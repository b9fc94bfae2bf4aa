"""Property tests: whatever a form receives, no 500 and no half-written rows."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from extensions import db
from models import ConsentEvent, OutboxMessage, Subscriber, Subscription
from tests.conftest import csrf_token

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
