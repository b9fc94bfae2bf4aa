"""Consent wording (versioned, never edited once published) and the event log."""

from dataclasses import dataclass

from sqlalchemy import insert

from models import ConsentAction, ConsentEvent
from services.core.transactions import Executor
from services.core.validation import ip_address_or_none

# The exact text each form shows next to its button. A published version is never
# changed: add a new version instead (tests pin the published ones).
WORDINGS: dict[str, str] = {
    "subscribe-v1": (
        "We will email you to confirm your address. You will only receive the "
        "newsletter after you confirm, and every mail has a one-click unsubscribe link."
    ),
    "enroll-v1": (
        "We will email you to confirm your address; your place is requested only once you "
        "confirm. We use these details to run the course and write to you about it."
    ),
    "enroll-newsletter-v1": (
        "Also send me the newsletter. We will email you separately to confirm."
    ),
}
CURRENT_SUBSCRIBE_WORDING = "subscribe-v1"
CURRENT_ENROLL_WORDING = "enroll-v1"
CURRENT_ENROLL_NEWSLETTER_WORDING = "enroll-newsletter-v1"


# The `form` of changes staff make in the console.
STAFF_FORM = "admin"


# Built once: its cache key is then computed once, not on every sign-up.
_INSERT_EVENT = insert(ConsentEvent.__table__)


@dataclass(frozen=True)
class ConsentOrigin:
    """Where and how a reader acted: recorded with every consent event."""

    form: str
    ip: str | None = None
    user_agent: str | None = None
    source_url: str | None = None
    referrer: str | None = None
    wording_version: str | None = None
    utm: dict[str, str] | None = None  # campaign parameters that brought the reader


def record(
    session: Executor,
    action: ConsentAction,
    origin: ConsentOrigin,
    *,
    subscriber_id: int | None,
    list_id: int | None = None,
    enrollment_id: int | None = None,
) -> None:
    # A Core insert: the log is append-only, so no ORM object is needed.
    session.execute(_INSERT_EVENT, dict(
        subscriber_id=subscriber_id,
        list_id=list_id,
        enrollment_id=enrollment_id,
        action=action,
        form=origin.form,
        wording_version=origin.wording_version,
        ip=ip_address_or_none(origin.ip),
        user_agent=(origin.user_agent or "")[:500] or None,
        source_url=(origin.source_url or "")[:2000] or None,
    ))
