"""The review queue: items a grader was not sure of (`needs_review`) and no TA has resolved.

Resolving is `POST /submissions/{id}/override` with a score and a comment, or with
`"accept": true` and a comment to keep the automatic score; the item then leaves the queue
(and comes back if a regrade changes the automatic score it was accepted at)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.deps import DbSession, require_roles
from app.gradebook import EffectiveItem, effective_item, overrides_for
from app.models import Role, Submission, SubmissionItem
from app.routes.ta import ItemView
from app.schemas import UserRef

router = APIRouter(prefix="/review", tags=["ta"])


@dataclass(frozen=True)
class ReviewEntry:
    submission: Submission
    item: EffectiveItem

    @property
    def answer(self) -> str:
        """The student's answer to this item, as text for the TA."""
        field = self.item.id.split(".", 1)[1]
        value: Any = self.submission.answers.get(field)
        if value is None:
            names = [f.filename for f in self.submission.files]
            return f"(files: {', '.join(names)})" if names else "(no answer)"
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return "\n".join(f"{line.get('rel', '')} {line.get('expr', '')}".strip() for line in value)
        if isinstance(value, list):
            return "\n".join(f"- {v}" for v in value)
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def review_queue(db: Session, exercise: str | None = None, limit: int = 200) -> list[ReviewEntry]:
    """Unresolved flagged items of graded submissions, oldest first."""
    flagged = (
        select(SubmissionItem.submission_id)
        .join(Submission, Submission.id == SubmissionItem.submission_id)
        .where(SubmissionItem.needs_review.is_(True), Submission.status == "graded")
    )
    if exercise:
        flagged = flagged.where(Submission.exercise == exercise)
    subs = list(db.scalars(
        select(Submission).options(selectinload(Submission.items), selectinload(Submission.files))
        .where(Submission.id.in_(flagged.distinct())).order_by(Submission.created_at)
    ))
    overrides = overrides_for(db, [s.id for s in subs])
    entries = []
    for sub in subs:
        for item in sub.items:
            eff = effective_item(item, overrides.get(sub.id, {}).get(item.item_id))
            if eff.needs_review:
                entries.append(ReviewEntry(sub, eff))
                if len(entries) >= limit:
                    return entries
    return entries


class ReviewOut(BaseModel):
    submission_id: str
    exercise: str
    student: UserRef
    submitted_at: datetime
    item: ItemView
    answer: str
    resolve_url: str


@router.get("", response_model=list[ReviewOut], summary="Items the graders were not sure of",
            dependencies=[Depends(require_roles(Role.ta))])
def review(db: DbSession, exercise: Annotated[str | None, Query(max_length=32)] = None,
           limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[ReviewOut]:
    return [
        ReviewOut(submission_id=e.submission.id, exercise=e.submission.exercise,
                  student=UserRef.of(e.submission.user), submitted_at=e.submission.created_at,
                  item=ItemView.of(e.item), answer=e.answer,
                  resolve_url=f"/api/v1/submissions/{e.submission.id}/override")
        for e in review_queue(db, exercise, limit)
    ]
