"""Figures too costly to compute on every request, cached in the database so that
every web process and machine shares them."""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class CachedAggregate(Base):
    __tablename__ = "cached_aggregates"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime]
