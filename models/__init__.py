"""Typed SQLAlchemy models; importing this package registers every table."""

from models import name_search  # noqa: F401  (SQLite's name index is made with the subscribers table)
from models.aggregates import CachedAggregate
from models.api_tokens import ApiToken, ApiTokenScope
from models.backups import BackupRun
from models.base import Base
from models.bounces import BounceEvent, BounceKind, Suppression, SuppressionReason
from models.campaigns import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from models.consent import ConsentAction, ConsentEvent
from models.courses import Cohort, Course, CourseFormat, Enrollment, EnrollmentStatus
from models.imports import ImportJob, ImportStatus
from models.jobs import Job, JobStatus, ScheduledTask
from models.outbox import OutboxMessage, OutboxStatus
from models.privacy import ErasureTombstone
from models.publication import PublicationSettings
from models.staff import AuditEvent, StaffRole, StaffSession, StaffUser
from models.subscribers import MailingList, Subscriber, Subscription, SubscriptionStatus

__all__ = [
    "ApiToken",
    "ApiTokenScope",
    "AuditEvent",
    "BackupRun",
    "Base",
    "BounceEvent",
    "BounceKind",
    "CachedAggregate",
    "Campaign",
    "CampaignRecipient",
    "CampaignStatus",
    "Cohort",
    "ConsentAction",
    "ConsentEvent",
    "Course",
    "CourseFormat",
    "Enrollment",
    "EnrollmentStatus",
    "ErasureTombstone",
    "ImportJob",
    "ImportStatus",
    "Job",
    "JobStatus",
    "MailingList",
    "OutboxMessage",
    "OutboxStatus",
    "PublicationSettings",
    "RecipientStatus",
    "ScheduledTask",
    "StaffRole",
    "StaffSession",
    "StaffUser",
    "Subscriber",
    "Subscription",
    "SubscriptionStatus",
    "Suppression",
    "SuppressionReason",
]
