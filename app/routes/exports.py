"""`GET /grades.csv` (Moodle gradebook import) and `GET /submissions/{id}/results.json`
(Gradescope's results.json)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

import graders

from app.deps import CurrentUser, DbSession, is_staff, require_roles
from app.exports import gradescope_results, moodle_csv
from app.gradebook import counted_for, effective_items, effective_score, gradebook, overrides_for
from app.models import Role, Submission

router = APIRouter(tags=["exports"])


@router.get(
    "/grades.csv",
    summary="Every student's counted grades as a CSV for Moodle's gradebook import",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "identifier columns, one column per exercise, total"}},
    dependencies=[Depends(require_roles(Role.ta, Role.lms))],
)
def grades_csv(db: DbSession) -> Response:
    exercises = list(graders.exercise_ids())
    rows = ((u.name, u.email, u.external_id, grades) for u, grades in gradebook(db, exercises))
    return Response(
        moodle_csv(rows, exercises),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="sheet8-grades.csv"'},
    )


@router.get(
    "/submissions/{submission_id}/results.json",
    summary="The result in Gradescope's results.json shape",
    responses={409: {"description": "not graded yet"}},
)
def results_json(submission_id: str, db: DbSession, user: CurrentUser) -> dict[str, Any]:
    sub = db.scalar(select(Submission).options(selectinload(Submission.items)).where(Submission.id == submission_id))
    if sub is None or (sub.user_id != user.id and not is_staff(user)):
        raise HTTPException(404, f"no submission {submission_id}")
    if sub.status in ("queued", "running"):
        raise HTTPException(409, f"submission {submission_id} is {sub.status}; ask again once it is graded")
    if sub.status == "failed":
        return {"score": 0, "visibility": "visible", "tests": [],
                "output": sub.error or "Grading failed on our side; a TA will grade it by hand."}
    overrides = overrides_for(db, [sub.id]).get(sub.id, {})
    rubric = graders.rubric(sub.exercise) if sub.exercise in graders.exercise_ids() else None
    descriptions = {i.id: i.description for i in rubric.items} if rubric else {}
    mine = list(db.scalars(select(Submission).options(selectinload(Submission.items))
                           .where(Submission.user_id == sub.user_id, Submission.exercise == sub.exercise)))
    counted = counted_for(sub.exercise, mine, overrides_for(db, [s.id for s in mine]))
    late = counted if counted is not None and counted.submission_id == sub.id else None
    return gradescope_results(effective_score(sub, overrides) or 0.0, effective_items(sub, overrides),
                              descriptions, late)
