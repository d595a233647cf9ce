"""LTI 1.3 state: who a platform user is here, where their grades go, and the short-lived
OIDC state/nonce values PyLTI1p3 keeps between login and launch."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class LtiIdentity(Base):
    """A platform user (issuer + `sub`) mapped to a user of ours."""

    __tablename__ = "lti_identities"
    __table_args__ = (UniqueConstraint("iss", "sub"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iss: Mapped[str] = mapped_column(String(500))
    sub: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class LtiGradeTarget(Base):
    """An AGS line item a student launched an exercise from: grades for that exercise go there."""

    __tablename__ = "lti_grade_targets"
    __table_args__ = (UniqueConstraint("user_id", "exercise", "lineitem"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    exercise: Mapped[str] = mapped_column(String(32))
    iss: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    sub: Mapped[str] = mapped_column(String(255))
    lineitem: Mapped[str] = mapped_column(String(1000))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    last_score: Mapped[float | None] = mapped_column(Float)
    last_pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class LtiStateValue(Base):
    """PyLTI1p3's launch data storage (nonces, state, launch data), with an expiry."""

    __tablename__ = "lti_state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
