"""Typed SQLAlchemy models; importing this package registers every table."""

from models.base import Base
from models.consent import ConsentAction, ConsentEvent
from models.outbox import OutboxMessage, OutboxStatus
from models.subscribers import MailingList, Subscriber, Subscription, SubscriptionStatus

__all__ = [
    "Base",
    "ConsentAction",
    "ConsentEvent",
    "MailingList",
    "OutboxMessage",
    "OutboxStatus",
    "Subscriber",
    "Subscription",
    "SubscriptionStatus",
]
