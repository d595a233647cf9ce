"""TA work over the API: per-item overrides with a comment, the audit log, regrades."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.deps import DbSession, ServicesDep, require_roles
from app.gradebook import EffectiveItem, effective_item
from app.lti.hooks import grade_changed
from app.models import Role, Submission, User
from app.models.audit import AuditEntry
from app.models.base import utcnow
from app.models.override import ItemOverride
from app.models.regrade import RegradeBatch
from app.regrades import RegradeProgress, progress, start_regrade
from app.services import Services

router = APIRouter(tags=["ta"])
TaUser = Annotated[User, Depends(require_roles(Role.ta))]


# --- overrides ---------------------------------------------------------------------------

class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    item: str = Field(max_length=64, examples=["ex1a.tau"])
    score: float | None = Field(None, description="the item's points (0..max); leave out with accept")
    accept: bool = Field(False, description="keep the automatic score (resolves a review)")
    comment: str = Field(min_length=1, max_length=2000, description="shown to the student")

    @model_validator(mode="after")
    def _one_of(self) -> "OverrideIn":
        if self.accept == (self.score is not None):
            raise ValueError("give either a score or accept: true")
        return self


class ItemView(BaseModel):
    """One item as a TA sees it: what counts, and the automatic score beside it."""

    id: str
    score: float
    max_score: float
    auto_score: float
    overridden: bool
    needs_review: bool
    comment: str | None
    feedback: str

    @classmethod
    def of(cls, item: EffectiveItem) -> "ItemView":
        return cls(id=item.id, score=item.score, max_score=item.max_score, auto_score=item.auto_score,
                   overridden=item.overridden, needs_review=item.needs_review, comment=item.comment,
                   feedback=item.feedback)


class OverrideOut(BaseModel):
    submission_id: str
    item: ItemView
    submission_score: float


def _item_state(o: ItemOverride | None) -> dict[str, Any] | None:
    if o is None:
        return None
    return {"score": o.score, "accepted_score": o.accepted_score, "comment": o.comment}


def apply_override(services: Services, db: Session, ta: User, submission_id: str, body: OverrideIn) -> OverrideOut:
    """Record the TA's decision beside the automatic score, and who made it. Commits."""
    sub = db.scalar(select(Submission).options(selectinload(Submission.items))
                    .where(Submission.id == submission_id).with_for_update(of=Submission))
    if sub is None:
        raise HTTPException(404, f"no submission {submission_id}")
    if sub.status != "graded":
        raise HTTPException(409, f"submission {submission_id} is {sub.status}; override once it is graded")
    item = next((i for i in sub.items if i.item_id == body.item), None)
    if item is None:
        known = ", ".join(i.item_id for i in sub.items)
        raise HTTPException(422, f"no item {body.item!r} in this {sub.exercise} submission; items: {known}")
    if body.score is not None and not 0 <= body.score <= item.max_score:
        raise HTTPException(422, f"score for {body.item} must be within 0..{item.max_score:g}")
    existing = db.get(ItemOverride, (submission_id, body.item))
    before = _item_state(existing)
    if existing is None:
        existing = ItemOverride(submission_id=submission_id, item_id=body.item, comment="")
        db.add(existing)
    existing.score = body.score
    existing.accepted_score = item.score if body.accept else None
    existing.comment = body.comment
    existing.ta_id = ta.id
    existing.updated_at = utcnow()
    db.add(AuditEntry(actor_id=ta.id, actor_name=ta.name, action="accept" if body.accept else "override",
                      submission_id=submission_id, item_id=body.item,
                      before={"auto_score": item.score, "override": before},
                      after=_item_state(existing), comment=body.comment))
    db.flush()
    overrides = {o.item_id: o for o in db.scalars(select(ItemOverride).where(ItemOverride.submission_id == submission_id))}
    effective = [effective_item(i, overrides.get(i.item_id)) for i in sub.items]
    out = OverrideOut(
        submission_id=submission_id,
        item=ItemView.of(next(e for e in effective if e.id == body.item)),
        submission_score=round(sum(e.score for e in effective), 6),
    )
    user_id, exercise = sub.user_id, sub.exercise
    db.commit()
    grade_changed(services.sessions, user_id, exercise)
    return out


@router.post("/submissions/{submission_id}/override", response_model=OverrideOut,
             summary="Set an item's points with a comment (or accept the automatic score)")
def override(submission_id: str, body: OverrideIn, services: ServicesDep, db: DbSession, ta: TaUser) -> OverrideOut:
    return apply_override(services, db, ta, submission_id, body)


# --- audit log ---------------------------------------------------------------------------

class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    submission_id: str | None
    item: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    comment: str


@router.get("/audit", response_model=list[AuditOut], summary="Who changed what, newest first",
            dependencies=[Depends(require_roles(Role.ta))])
def audit(db: DbSession, submission_id: str | None = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 200,
          offset: Annotated[int, Query(ge=0)] = 0) -> list[AuditOut]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if submission_id:
        query = query.where(AuditEntry.submission_id == submission_id)
    return [AuditOut(id=e.id, at=e.at, actor=e.actor_name, action=e.action, submission_id=e.submission_id,
                     item=e.item_id, before=e.before, after=e.after, comment=e.comment)
            for e in db.scalars(query)]


# --- regrade -----------------------------------------------------------------------------

class RegradeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exercise: str | None = Field(None, examples=["ex2"], description="leave out to regrade every exercise")


@router.post("/regrade", response_model=RegradeProgress, status_code=status.HTTP_202_ACCEPTED,
             summary="Regrade all (or one exercise's) submissions with the current graders")
def regrade(services: ServicesDep, db: DbSession, ta: TaUser,
            body: Annotated[RegradeIn | None, Body()] = None) -> RegradeProgress:
    batch = start_regrade(services.queue, db, ta, body.exercise if body else None)
    return progress(db, db.get(RegradeBatch, batch.id))


@router.get("/regrade/{batch_id}", response_model=RegradeProgress, summary="A regrade's progress",
            dependencies=[Depends(require_roles(Role.ta))])
def regrade_progress(batch_id: str, db: DbSession) -> RegradeProgress:
    batch = db.get(RegradeBatch, batch_id)
    if batch is None:
        raise HTTPException(404, f"no regrade batch {batch_id}")
    return progress(db, batch)
