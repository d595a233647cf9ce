"""Regrades: every graded (or failed) submission of one or all exercises goes back on the
grading queue, one job each, so the workers regrade them in parallel with the current
graders. Overrides live beside the automatic results and stay. A regrade never loses a
grade: when the grader fails on a submission that had one, the previous result is put back
and the failure is reported in the batch instead."""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import HTTPException
from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

import graders

from app.db import session_scope
from app.models import Submission, SubmissionItem, User
from app.models.audit import AuditEntry
from app.models.base import utcnow
from app.models.regrade import RegradeBatch, RegradeJob

ITEM_FIELDS = ("item_id", "position", "score", "max_score", "feedback", "needs_review")


class RegradeFailure(BaseModel):
    submission_id: str
    error: str | None


class RegradeProgress(BaseModel):
    batch_id: str
    exercise: str | None
    created_at: datetime
    total: int
    done: int
    failed: int
    pending: int
    finished: bool
    failures: list[RegradeFailure]


def _snapshot(sub: Submission) -> dict | None:
    if sub.status != "graded":
        return None
    return {
        "score": sub.score, "grader_version": sub.grader_version,
        "graded_at": sub.graded_at.isoformat() if sub.graded_at else None,
        "items": [{f: getattr(i, f) for f in ITEM_FIELDS} for i in sub.items],
    }


def start_regrade(queue, db: Session, ta: User, exercise: str | None) -> RegradeBatch:
    if exercise is not None and exercise not in graders.exercise_ids():
        raise HTTPException(422, f"unknown exercise {exercise!r}; known: {', '.join(graders.exercise_ids())}")
    query = (select(Submission).options(selectinload(Submission.items))
             .where(Submission.status.in_(("graded", "failed"))).order_by(Submission.created_at))
    if exercise is not None:
        query = query.where(Submission.exercise == exercise)
    subs = list(db.scalars(query))
    batch = RegradeBatch(id=str(uuid.uuid4()), exercise=exercise, requested_by=ta.id, created_at=utcnow())
    db.add(batch)
    db.add_all(RegradeJob(batch_id=batch.id, submission_id=s.id, status="queued", previous=_snapshot(s)) for s in subs)
    ids = [s.id for s in subs]
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        db.execute(update(Submission).where(Submission.id.in_(chunk), Submission.status.in_(("graded", "failed")))
                   .values(status="queued", attempt_token=None, lease_expires_at=None)
                   .execution_options(synchronize_session=False))
    db.add(AuditEntry(actor_id=ta.id, actor_name=ta.name, action="regrade",
                      after={"batch_id": batch.id, "exercise": exercise, "total": len(ids)}, comment=""))
    db.commit()
    for sid in ids:
        queue.enqueue(sid)
    return batch


def keep_grade_on_failure(sessions: sessionmaker[Session], submission_id: str) -> None:
    """The worker's hook after a job: a regrade that failed puts the previous result back."""
    with session_scope(sessions) as db:
        sub = db.get(Submission, submission_id)
        if sub is None or sub.status != "failed":
            return
        # the latest regrade of this submission (a TA reading the progress may already
        # have marked its job failed)
        job = db.scalar(select(RegradeJob).join(RegradeBatch)
                        .where(RegradeJob.submission_id == submission_id)
                        .order_by(RegradeBatch.created_at.desc()).limit(1))
        if job is None or job.previous is None or job.status == "done":
            return
        previous = job.previous
        job.status, job.error, job.finished_at = "failed", sub.error, utcnow()
        db.execute(delete(SubmissionItem).where(SubmissionItem.submission_id == submission_id))
        db.add_all(SubmissionItem(submission_id=submission_id, **item) for item in previous["items"])
        sub.status, sub.score, sub.error = "graded", previous["score"], None
        sub.grader_version = previous["grader_version"]
        if previous["graded_at"]:
            sub.graded_at = datetime.fromisoformat(previous["graded_at"])


def progress(db: Session, batch: RegradeBatch) -> RegradeProgress:
    """A job is done once its submission was graded after the batch started (failed, if the
    grader failed); job rows are brought up to date as they are read."""
    waiting = [j for j in batch.jobs if j.status == "queued"]
    ids = [j.submission_id for j in waiting]
    subs = {s.id: s for s in db.scalars(select(Submission).where(Submission.id.in_(ids)))} if ids else {}
    for job in waiting:
        sub = subs.get(job.submission_id)
        if sub is None:  # deleted meanwhile
            job.status, job.error = "failed", "the submission no longer exists"
        elif sub.status in ("graded", "failed") and sub.graded_at is not None and sub.graded_at >= batch.created_at:
            job.status = "done" if sub.status == "graded" else "failed"
            job.error = sub.error if sub.status == "failed" else None
            job.finished_at = sub.graded_at
    db.commit()
    total = len(batch.jobs)
    done = sum(j.status == "done" for j in batch.jobs)
    failures = [RegradeFailure(submission_id=j.submission_id, error=j.error) for j in batch.jobs if j.status == "failed"]
    return RegradeProgress(batch_id=batch.id, exercise=batch.exercise, created_at=batch.created_at, total=total,
                           done=done, failed=len(failures), pending=total - done - len(failures),
                           finished=done + len(failures) == total, failures=failures)
