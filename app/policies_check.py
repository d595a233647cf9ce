"""The course policy at the door: may this student submit to this exercise now?

Called by `POST /submissions` after the body is validated and before anything is stored. A
refusal is a 403 (cut-off passed, attempts used) or a 429 with Retry-After (rate limit);
the staged upload is discarded. A retry with an Idempotency-Key already used is a replay
of the stored submission, never a new attempt, so it is not refused. TAs are exempt."""
from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Role, Submission, User
from app.policies import Refusal, as_utc, check_submission, policy_for, utcnow
from app.uploads import IncomingSubmission


def enforce(db: Session, user: User, incoming: IncomingSubmission, idempotency_key: str | None) -> None:
    if user.role != Role.student.value:
        return
    if idempotency_key is not None and db.scalar(select(Submission.id).where(
            Submission.user_id == user.id, Submission.idempotency_key == idempotency_key)) is not None:
        return
    # Serialise one student's submissions (PostgreSQL row lock until the insert commits), so
    # two requests at once cannot both take the last attempt.
    db.scalar(select(User.id).where(User.id == user.id).with_for_update())
    rows = db.execute(select(Submission.created_at, Submission.status).where(
        Submission.user_id == user.id, Submission.exercise == incoming.exercise)).all()
    earlier = [as_utc(created) for created, _ in rows]
    attempts = sum(1 for _, status in rows if status != "failed")  # our failures cost nothing
    try:
        check_submission(policy_for(incoming.exercise), utcnow(), earlier, attempts)
    except Refusal as refusal:
        incoming.discard()
        db.rollback()
        headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else None
        raise HTTPException(refusal.status, refusal.detail, headers=headers) from None
