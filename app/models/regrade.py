"""A regrade batch and its one-job-per-submission progress."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow

JOB_STATUSES = ("queued", "done", "failed")


class RegradeBatch(Base):
    __tablename__ = "regrade_batches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    exercise: Mapped[str | None] = mapped_column(String(32))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    jobs: Mapped[list["RegradeJob"]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", lazy="selectin"
    )


class RegradeJob(Base):
    __tablename__ = "regrade_jobs"

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("regrade_batches.id", ondelete="CASCADE"), primary_key=True
    )
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    # the automatic result before the regrade, put back if the regrade fails
    previous: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    batch: Mapped[RegradeBatch] = relationship(back_populates="jobs")
