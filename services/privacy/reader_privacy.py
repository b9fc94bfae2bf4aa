"""Reader self-service privacy: a mailed link to everything held about an address,
a copy of it to download, and erasure. The signed link proves the address; both
actions are audited under a pseudonym, never the address itself."""

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext

from models import SubscriptionStatus
from services.core import audit
from services.core.audit import Actor
from services.core.errors import InvalidToken
from services.core.links import external_url
from services.core.tokens import Purpose, make_token, read_token
from services.core.transactions import read_session, write_transaction
from services.core.validation import normalise_email
from services.courses.enrollments import stop_course_mail_url
from services.mail import opt_in_throttle, outbox
from services.privacy import personal_data, privacy
from services.privacy.personal_data import Holdings
from services.subscriptions import subscriptions

# Consent events of a self-service erasure name this form.
READER_FORM = "privacy-self-service"


@dataclass(frozen=True)
class Summary:
    """What the link's page tells the reader before they choose."""

    email: str
    is_subscriber: bool
    lists: list[str]
    enrollments: list[str]

    @property
    def empty(self) -> bool:
        return not self.is_subscriber and not self.enrollments


def reader_actor(email: str) -> Actor:
    # No IP either: the audit log must not keep what erasure removes.
    return Actor(f"reader:{privacy.address_hash(email)[:12]}")


def link_hours() -> int:
    return current_app.config["PRIVACY_TOKEN_MAX_AGE"] // 3600


def _list_unsubscribe_url(held: Holdings) -> str:
    """Every mail carries List-Unsubscribe. A subscriber's leaves their newsletter, as in
    every newsletter mail; otherwise it stops optional mail about their latest enrolment,
    as in every course mail, and never cancels a place."""
    if held.subscriber is not None and held.subscriber.subscriptions:
        subscription = min(held.subscriber.subscriptions,
                           key=lambda s: (s.status != SubscriptionStatus.CONFIRMED, s.id))
        return subscriptions.unsubscribe_url(held.subscriber.id, held.subscriber.link_key, subscription.list_id)
    if held.enrollments:
        return stop_course_mail_url(held.enrollments[-1])
    # A subscriber left with no list: nothing to stop, so the harmless request page.
    return external_url("public.privacy")


def request_link(raw_email: str | None) -> None:
    """Mail the address a link, if anything is held about it. Returns nothing: callers
    must answer alike whether the address is known."""
    email = normalise_email(raw_email, check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"])
    with write_transaction() as session:
        # The lock on the address's rows makes concurrent requests see each other's mail.
        held = personal_data.find(session, email, lock=True)
        if held.empty:
            return
        owner = held.subscriber or held.enrollments[0]
        if not opt_in_throttle.allows(session, owner.email, opt_in_throttle.PRIVACY_LINK):
            return
        token = make_token(Purpose.PRIVACY, {"email": email})
        outbox.enqueue(
            session, template="privacy_link", subject=gettext("Your data: download or erase it"),
            category=opt_in_throttle.PRIVACY_LINK, recipient=owner.email, recipient_name=owner.full_name,
            unsubscribe_url=_list_unsubscribe_url(held),
            context={"privacy_url": external_url("public.privacy_link", token=token), "hours": link_hours()},
        )


def _address(token: str) -> str:
    payload, _ = read_token(Purpose.PRIVACY, token, max_age=current_app.config["PRIVACY_TOKEN_MAX_AGE"])
    email = payload.get("email")
    if not isinstance(email, str) or not email:
        raise InvalidToken(gettext("This link is not valid."))
    return email


def summary(token: str) -> Summary:
    """For the page a GET of the link shows; reads only."""
    held = personal_data.find(read_session(), _address(token))
    subscribed = held.subscriber.subscriptions if held.subscriber is not None else []
    return Summary(held.email, held.subscriber is not None, sorted(s.mailing_list.name for s in subscribed),
                   [f"{e.cohort.course.title}, {e.cohort.label}" for e in held.enrollments])


def export(token: str) -> dict:
    """Everything held about the link's address; the download is audited."""
    email = _address(token)
    with write_transaction() as session:
        held = personal_data.find(session, email)
        data = personal_data.export(session, held)
        audit.record(session, reader_actor(email), "privacy.export",
                     target=f"subscriber:{held.subscriber.id}" if held.subscriber else None,
                     details={"address_hash": privacy.address_hash(email),
                              "enrollments": [e.id for e in held.enrollments]})
    return data


def erase(token: str) -> bool:
    """Erase everything held about the link's address; False if nothing was held."""
    email = _address(token)
    return privacy.erase_address(reader_actor(email), email, READER_FORM)
