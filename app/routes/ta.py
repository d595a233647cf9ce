"""TA work over the API: per-item overrides with a comment, the audit log, regrades."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

import graders

from app.deps import DbSession, ServicesDep, require_roles
from app.gradebook import EffectiveItem, effective_item
from app.lti.hooks import grade_changed
from app.models import Role, Submission, User
from app.models.audit import AuditEntry
from app.models.base import utcnow
from app.models.override import ItemOverride
from app.models.regrade import RegradeBatch, RegradeJob
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


class RegradeProgress(BaseModel):
    batch_id: str
    exercise: str | None
    created_at: datetime
    total: int
    done: int
    failed: int
    pending: int
    finished: bool


def start_regrade(services: Services, db: Session, ta: User, exercise: str | None) -> RegradeBatch:
    """Queue every graded or failed submission (of one exercise) again, one job each; the
    workers regrade them in parallel with the current graders. Overrides stay."""
    if exercise is not None and exercise not in graders.exercise_ids():
        raise HTTPException(422, f"unknown exercise {exercise!r}; known: {', '.join(graders.exercise_ids())}")
    query = select(Submission.id).where(Submission.status.in_(("graded", "failed")))
    if exercise is not None:
        query = query.where(Submission.exercise == exercise)
    ids = list(db.scalars(query.order_by(Submission.created_at)))
    batch = RegradeBatch(id=str(uuid.uuid4()), exercise=exercise, requested_by=ta.id, created_at=utcnow())
    db.add(batch)
    db.add_all(RegradeJob(batch_id=batch.id, submission_id=sid, status="queued") for sid in ids)
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        db.execute(update(Submission).where(Submission.id.in_(chunk), Submission.status.in_(("graded", "failed")))
                   .values(status="queued", attempt_token=None, lease_expires_at=None)
                   .execution_options(synchronize_session=False))
    db.add(AuditEntry(actor_id=ta.id, actor_name=ta.name, action="regrade",
                      after={"batch_id": batch.id, "exercise": exercise, "total": len(ids)}, comment=""))
    db.commit()
    for sid in ids:
        services.queue.enqueue(sid)
    return batch


def progress(db: Session, batch: RegradeBatch) -> RegradeProgress:
    """A job is done once its submission was graded after the batch started; the job rows
    are brought up to date as they are read."""
    ids = [j.submission_id for j in batch.jobs]
    subs = {s.id: s for s in db.scalars(select(Submission).where(Submission.id.in_(ids)))} if ids else {}
    done = failed = 0
    for job in batch.jobs:
        sub = subs.get(job.submission_id)
        finished = sub is not None and sub.graded_at is not None and sub.graded_at >= batch.created_at \
            and sub.status in ("graded", "failed")
        if finished:
            job.status = "done" if sub.status == "graded" else "failed"
            job.error = sub.error if sub.status == "failed" else None
            job.finished_at = job.finished_at or sub.graded_at
        done += job.status == "done"
        failed += job.status == "failed"
    db.commit()
    total = len(batch.jobs)
    return RegradeProgress(batch_id=batch.id, exercise=batch.exercise, created_at=batch.created_at, total=total,
                           done=done, failed=failed, pending=total - done - failed,
                           finished=done + failed == total)


@router.post("/regrade", response_model=RegradeProgress, status_code=status.HTTP_202_ACCEPTED,
             summary="Regrade all (or one exercise's) submissions with the current graders")
def regrade(services: ServicesDep, db: DbSession, ta: TaUser,
            body: Annotated[RegradeIn | None, Body()] = None) -> RegradeProgress:
    batch = start_regrade(services, db, ta, body.exercise if body else None)
    return progress(db, db.get(RegradeBatch, batch.id))


@router.get("/regrade/{batch_id}", response_model=RegradeProgress, summary="A regrade's progress",
            dependencies=[Depends(require_roles(Role.ta))])
def regrade_progress(batch_id: str, db: DbSession) -> RegradeProgress:
    batch = db.get(RegradeBatch, batch_id)
    if batch is None:
        raise HTTPException(404, f"no regrade batch {batch_id}")
    return progress(db, batch)
