"""Submit answers (and files), read a grade (optionally waiting for it), list submissions."""
from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.deps import CurrentUser, DbSession, ServicesDep, is_staff, require_roles
from app.gradebook import with_override_scores, with_overrides
from app.models import Role, Submission, User
from app.policies_check import enforce as enforce_policy
from app.schemas import SubmissionList, SubmissionOut, SubmissionSummary
from app.services import Services
from app.submissions import store_submission
from app.uploads import SubmissionIn, read_submission

log = logging.getLogger(__name__)
router = APIRouter(prefix="/submissions", tags=["submissions"])

PENDING = ("queued", "running")

_MULTIPART_SCHEMA = {
    "type": "object",
    "required": ["exercise"],
    "properties": {
        "exercise": {"type": "string", "example": "ex4"},
        "answers": {"type": "string", "description": "the answers object as a JSON string", "example": "{}"},
        "files": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "files named as the exercise accepts them (GET /exercises: files[].accept)",
        },
    },
}
_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SubmissionIn.model_json_schema()},
            "multipart/form-data": {"schema": _MULTIPART_SCHEMA},
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SubmissionOut,
    summary="Submit answers to one exercise (JSON, or multipart with files)",
    openapi_extra=_REQUEST_BODY,
    responses={200: {"model": SubmissionOut, "description": "a repeated Idempotency-Key: the first submission"}},
)
async def create_submission(
    request: Request,
    response: Response,
    services: ServicesDep,
    db: DbSession,
    user: Annotated[User, Depends(require_roles(Role.student, Role.ta))],
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="repeat a request safely: same key, same submission")
    ] = None,
) -> SubmissionOut:
    db.close()  # no connection held while the body streams in
    incoming = await read_submission(request, services.settings, services.store)

    def store() -> tuple[SubmissionOut, bool]:
        with services.sessions() as session:
            enforce_policy(session, user, incoming, idempotency_key)
            submission, new = store_submission(session, services.store, user, incoming, idempotency_key)
            return _load(services, submission.id, user), new  # type: ignore[return-value]

    out, new = await run_in_threadpool(store)
    if new:
        try:
            await run_in_threadpool(services.queue.enqueue, out.id)  # a network call with Redis
        except Exception:  # committed and `queued`: a worker's sweep enqueues it later
            log.exception("could not enqueue submission %s now", out.id)
    else:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{out.id}"
    return out


def _load(services: Services, submission_id: str, user: User) -> SubmissionOut | None:
    """The submission as the caller may see it; None if it does not exist for them."""
    with services.sessions() as db:
        submission = db.scalar(
            select(Submission)
            .where(Submission.id == submission_id)
            .options(selectinload(Submission.items))
        )
        if submission is None or (submission.user_id != user.id and not is_staff(user)):
            return None
        return with_overrides(SubmissionOut.of(submission), db, is_staff(user))


@router.get("/{submission_id}", response_model=SubmissionOut, summary="A submission and its grade")
async def get_submission(
    submission_id: str,
    services: ServicesDep,
    db: DbSession,
    user: CurrentUser,
    wait: Annotated[
        float, Query(ge=0, description="wait up to this many seconds (capped at 30) for the grade")
    ] = 0,
) -> SubmissionOut:
    db.close()  # waiting holds neither a connection nor a thread
    deadline = asyncio.get_running_loop().time() + min(wait, services.settings.max_wait_seconds)
    with services.waiters.subscribe(submission_id) as finished:
        out = await run_in_threadpool(_load, services, submission_id, user)
        if out is None:
            # Someone else's submission looks exactly like a missing one.
            raise HTTPException(404, f"no submission {submission_id}")
        interval = 0.05
        while out.status in PENDING:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(finished.wait(), min(interval, remaining))
            except TimeoutError:
                interval = min(interval * 2, 1.0)  # workers elsewhere (Redis): poll, backing off
            finished.clear()
            out = await run_in_threadpool(_load, services, submission_id, user) or out
    return out


@router.get("", response_model=SubmissionList, summary="Your submissions (TA: everyone's, filterable)")
def list_submissions(
    db: DbSession,
    user: CurrentUser,
    exercise: str | None = None,
    student: Annotated[int | None, Query(description="a student's id (TA only)")] = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(queued|running|graded|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SubmissionList:
    query = select(Submission)
    if not is_staff(user):
        query = query.where(Submission.user_id == user.id)
    elif student is not None:
        query = query.where(Submission.user_id == student)
    if exercise is not None:
        query = query.where(Submission.exercise == exercise)
    if status_ is not None:
        query = query.where(Submission.status == status_)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(Submission.created_at.desc(), Submission.id).limit(limit).offset(offset))
    summaries = [SubmissionSummary.of(s) for s in rows]
    with_override_scores(db, summaries)  # TA overrides change a submission's score
    return SubmissionList(submissions=summaries, total=total, limit=limit, offset=offset)
