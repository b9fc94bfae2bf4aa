"""Everything held about one address: finding it (and locking it for a change), and
the copy of it a reader can download."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import Cohort, ConsentEvent, Enrollment, MailingList, OutboxMessage, Subscriber, Subscription
from models.base import utcnow
from services.subscriptions.consent import WORDINGS


@dataclass(frozen=True)
class Holdings:
    email: str
    subscriber: Subscriber | None
    enrollments: list[Enrollment]

    @property
    def empty(self) -> bool:
        return self.subscriber is None and not self.enrollments


def enrollments_of(session: Session, emails: Collection[str], *, lock: bool = False) -> list[Enrollment]:
    """Every enrolment of these addresses (matched case-insensitively), oldest first."""
    matching = func.lower(Enrollment.email).in_({email.lower() for email in emails})
    statement = select(Enrollment).where(matching).order_by(Enrollment.id)
    if not lock:
        return list(session.scalars(statement))
    # The enrolment service's lock order: cohorts before enrolment rows, each by id.
    session.scalars(
        select(Cohort.id).where(Cohort.id.in_(select(Enrollment.cohort_id).where(matching)))
        .order_by(Cohort.id).with_for_update()
    ).all()
    return list(session.scalars(statement.with_for_update()))


def find(session: Session, email: str, *, lock: bool = False) -> Holdings:
    """What is held about `email`; with `lock`, its rows are locked (subscriber first)."""
    statement = select(Subscriber).where(func.lower(Subscriber.email) == email.lower())
    subscriber = session.scalar(statement.with_for_update() if lock else statement)
    return Holdings(email, subscriber, enrollments_of(session, [email], lock=lock))


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _subscriber(subscriber: Subscriber | None) -> dict | None:
    if subscriber is None:
        return None
    return {"email": subscriber.email, "full_name": subscriber.full_name,
            "created_at": _when(subscriber.created_at)}


def _subscription(subscription: Subscription) -> dict:
    return {
        "list": subscription.mailing_list.name, "list_slug": subscription.mailing_list.slug,
        "status": subscription.status.value, "created_at": _when(subscription.created_at),
        "requested_at": _when(subscription.requested_at), "confirmed_at": _when(subscription.confirmed_at),
        "unsubscribed_at": _when(subscription.unsubscribed_at),
        "status_changed_at": _when(subscription.status_changed_at),
        "source_url": subscription.source_url, "referrer": subscription.referrer,
    }


def _enrollment(enrollment: Enrollment) -> dict:
    cohort = enrollment.cohort
    return {
        "course": cohort.course.title, "course_slug": cohort.course.slug, "cohort": cohort.label,
        "starts_on": _when(cohort.starts_on), "ends_on": _when(cohort.ends_on),
        "full_name": enrollment.full_name, "email": enrollment.email, "phone": enrollment.phone,
        "country": enrollment.country, "organisation": enrollment.organisation, "note": enrollment.note,
        "status": enrollment.status.value, "waitlist_position": enrollment.waitlist_position,
        "requested_at": _when(enrollment.requested_at), "confirmed_at": _when(enrollment.confirmed_at),
        "cancelled_at": _when(enrollment.cancelled_at),
        "optional_mail_stopped_at": _when(enrollment.optional_mail_stopped_at),
    }


def _consent_events(session: Session, held: Holdings) -> list[dict]:
    mine = []
    if held.subscriber is not None:
        mine.append(ConsentEvent.subscriber_id == held.subscriber.id)
    if held.enrollments:
        mine.append(ConsentEvent.enrollment_id.in_([e.id for e in held.enrollments]))
    if not mine:
        return []
    courses = {e.id: f"{e.cohort.course.title}, {e.cohort.label}" for e in held.enrollments}
    rows = session.execute(
        select(ConsentEvent, MailingList.name).outerjoin(MailingList, MailingList.id == ConsentEvent.list_id)
        .where(or_(*mine)).order_by(ConsentEvent.occurred_at, ConsentEvent.id)
    ).all()
    return [{
        "action": event.action.value, "occurred_at": _when(event.occurred_at),
        "list": list_name, "course": courses.get(event.enrollment_id),
        "form": event.form, "wording_version": event.wording_version,
        "wording": WORDINGS.get(event.wording_version or ""),
        "ip": event.ip, "user_agent": event.user_agent, "source_url": event.source_url,
    } for event, list_name in rows]


def _mail(session: Session, email: str) -> list[dict]:
    # What we mailed and when; the bodies hold live links, so they stay out of the file.
    messages = session.scalars(
        select(OutboxMessage).where(func.lower(OutboxMessage.recipient) == email.lower())
        .order_by(OutboxMessage.id)
    )
    return [{"subject": m.subject, "status": m.status.value, "queued_at": _when(m.created_at),
             "sent_at": _when(m.sent_at)} for m in messages]


def export(session: Session, held: Holdings) -> dict:
    """A copy of everything held about the address, for the reader to download."""
    subscriptions = held.subscriber.subscriptions if held.subscriber is not None else []
    return {
        "address": held.email,
        "exported_at": _when(utcnow()),
        "subscriber": _subscriber(held.subscriber),
        "subscriptions": [_subscription(s) for s in sorted(subscriptions, key=lambda s: s.id)],
        "enrollments": [_enrollment(e) for e in held.enrollments],
        "consent_events": _consent_events(session, held),
        "mail": _mail(session, held.email),
    }
