"""A TA's decision on one item of one submission, kept beside the automatic score.

`score` set: the TA's points replace the automatic ones. `score` None: the TA accepted the
automatic score (`accepted_score`, resolving a review); if a regrade changes that score the
item needs review again. Regrades replace `submission_items`, never these rows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class ItemOverride(Base):
    __tablename__ = "item_overrides"

    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float | None] = mapped_column(Float)
    accepted_score: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text)
    ta_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def is_accept(self) -> bool:
        return self.score is None
