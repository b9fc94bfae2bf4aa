"""Courses, their dated runs (cohorts) and the people enrolled in them."""

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, link_key_column, utcnow


def _enum(cls: type[enum.Enum], length: int = 20) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class CourseFormat(enum.StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"


class EnrollmentStatus(enum.StrEnum):
    PENDING = "pending"        # address not yet confirmed
    CONFIRMED = "confirmed"    # holds a seat
    WAITLISTED = "waitlisted"  # confirmed address, queued for a seat
    CANCELLED = "cancelled"


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("fee_minor >= 0", name="fee_not_negative"),
        CheckConstraint("duration_weeks > 0", name="duration_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    # Markdown source; rendered and sanitised for display.
    description: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[CourseFormat] = mapped_column(_enum(CourseFormat), default=CourseFormat.ONLINE)
    duration_weeks: Mapped[int]
    # Integer minor units (cents) of `currency`; 0 means free.
    fee_minor: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    contact_email: Mapped[str] = mapped_column(String(320))
    is_published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cohorts: Mapped[list["Cohort"]] = relationship(back_populates="course", order_by="Cohort.starts_on")


class Cohort(Base):
    __tablename__ = "cohorts"
    __table_args__ = (
        # The last line of defence: a seat count above capacity cannot be stored.
        CheckConstraint("capacity IS NULL OR seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("seats_taken >= 0", name="seats_not_negative"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("enrolment_closes_at > enrolment_opens_at", name="window_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    # Calendar dates in the cohort's timezone.
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    enrolment_opens_at: Mapped[datetime]
    enrolment_closes_at: Mapped[datetime]
    capacity: Mapped[int | None]  # None: unlimited
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    seats_taken: Mapped[int] = mapped_column(default=0)
    # Seats staff granted beyond capacity (an audited override), held on top of
    # seats_taken; the first seats freed go back to capacity before anyone is promoted.
    seats_over_capacity: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(back_populates="cohorts")


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        Index("ix_enrollments_cohort_status", "cohort_id", "status", "waitlist_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    full_name: Mapped[str] = mapped_column(String(200))
    # email-validator's normalised form; one enrolment per address and cohort (index below).
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))  # E.164
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    organisation: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[EnrollmentStatus] = mapped_column(_enum(EnrollmentStatus), default=EnrollmentStatus.PENDING)
    # 1 is next in line; kept gap-free within a cohort.
    waitlist_position: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Set by the List-Unsubscribe link: no more optional mail about this enrolment.
    optional_mail_stopped_at: Mapped[datetime | None]
    # Recorded by staff; paid_by is the staff member's address, kept if the account goes.
    paid_at: Mapped[datetime | None]
    paid_by: Mapped[str | None] = mapped_column(String(320))
    # Confirm, cancel and stop-course-mail links carry it.
    link_key: Mapped[str] = link_key_column()
    # The language the reader enrolled in: their course mail is in it (NULL: the site's default).
    language: Mapped[str | None] = mapped_column(String(8))

    cohort: Mapped[Cohort] = relationship()


Index("uq_enrollments_cohort_email_lower", Enrollment.cohort_id, func.lower(Enrollment.email), unique=True)
# A reader's privacy requests find their enrolments in every cohort by address.
Index("ix_enrollments_email_lower", func.lower(Enrollment.email))
