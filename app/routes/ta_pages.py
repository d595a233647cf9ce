"""The TA dashboard (`/ta`): score tables and histograms per exercise and item, late and
missing submissions, the review queue with in-place resolution, a page per student, the
audit log, and regrades. Server-rendered; the forms carry the session's CSRF token."""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

import graders

from app.deps import DbSession, ServicesDep
from app.gradebook import counted_for, effective_items, effective_score, gradebook, overrides_for
from app.models import Role, Submission, User
from app.models.audit import AuditEntry
from app.models.lti import LtiGradeTarget
from app.models.regrade import RegradeBatch
from app.policies import policy_for
from app.routes.pages import TaSession, check_csrf, render
from app.routes.review import review_queue
from app.regrades import progress, start_regrade
from app.routes.ta import OverrideIn, apply_override
from app.score_stats import Summary, histogram_svg

router = APIRouter(prefix="/ta", include_in_schema=False)


def _roster(db) -> list[User]:
    return list(db.scalars(select(User).where(User.role == Role.student.value).order_by(User.name, User.id)))


def _submitted(db, exercise: str | None = None) -> dict[str, set[int]]:
    query = select(Submission.exercise, Submission.user_id).distinct()
    if exercise:
        query = query.where(Submission.exercise == exercise)
    found: dict[str, set[int]] = defaultdict(set)
    for ex, uid in db.execute(query):
        found[ex].add(uid)
    return found


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, db: DbSession, session: TaSession, message: str | None = None) -> HTMLResponse:
    exercises = list(graders.exercise_ids())
    book = gradebook(db, exercises)
    submitted = _submitted(db)
    to_review = Counter(e.submission.exercise for e in review_queue(db, limit=100_000))
    rows = []
    for ex in exercises:
        counted = [g[ex] for _, g in book if g[ex] is not None]
        rows.append({
            "exercise": ex,
            "max_score": graders.rubric(ex).max_points,
            "summary": Summary.of([c.score for c in counted]),
            "late": sum(1 for c in counted if c.days_late),
            "missing": [u for u, _ in book if u.id not in submitted[ex]],
            "review": to_review[ex],
        })
    batches = [progress(db, b) for b in db.scalars(
        select(RegradeBatch).order_by(RegradeBatch.created_at.desc()).limit(5))]
    return render(request, "ta/dashboard.html", session, exercises=rows, batches=batches,
                  review_total=sum(to_review.values()), message=message)


@router.get("/exercises/{exercise}", response_class=HTMLResponse)
def exercise_page(request: Request, exercise: str, db: DbSession, session: TaSession) -> HTMLResponse:
    if exercise not in graders.exercise_ids():
        raise HTTPException(404, f"no exercise {exercise}")
    rubric = graders.rubric(exercise)
    book = gradebook(db, [exercise])
    counted = {u.id: g[exercise] for u, g in book if g[exercise] is not None}
    subs = {s.id: s for s in db.scalars(select(Submission).options(selectinload(Submission.items))
                                           .where(Submission.id.in_([c.submission_id for c in counted.values()])))}
    overrides = overrides_for(db, list(subs))
    per_item: dict[str, list[float]] = defaultdict(list)
    review: Counter[str] = Counter()
    for sub in subs.values():
        for it in effective_items(sub, overrides.get(sub.id, {})):
            per_item[it.id].append(it.score)
            review[it.id] += it.needs_review
    items = [{
        "id": spec.id, "max_score": spec.points, "summary": Summary.of(per_item[spec.id]),
        "svg": histogram_svg(per_item[spec.id], spec.points, spec.id), "review": review[spec.id],
    } for spec in rubric.items]
    totals = [c.score for c in counted.values()]
    users = {u.id: u for u, _ in book}
    late = sorted(({"user": users[uid], "submitted_at": subs[c.submission_id].created_at, "days_late": c.days_late,
                    "penalty": c.penalty, "score": c.score} for uid, c in counted.items() if c.days_late),
                  key=lambda r: r["submitted_at"])
    submitted = _submitted(db, exercise)[exercise]
    return render(request, "ta/exercise.html", session, exercise=exercise, title=rubric.title, items=items,
                  summary=Summary.of(totals), max_score=rubric.max_points,
                  total_svg=histogram_svg(totals, rubric.max_points, f"{exercise} total"),
                  late=late, missing=[u for u in users.values() if u.id not in submitted],
                  deadline=policy_for(exercise).deadline)


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, db: DbSession, session: TaSession, message: str | None = None,
                error: str | None = None) -> HTMLResponse:
    return render(request, "ta/review.html", session, entries=review_queue(db), message=message, error=error)


@router.get("/students", response_class=HTMLResponse)
def students_page(request: Request, db: DbSession, session: TaSession) -> HTMLResponse:
    exercises = list(graders.exercise_ids())
    rows = [{"user": u, "grades": g, "total": sum(c.score for c in g.values() if c)} for u, g in gradebook(db, exercises)]
    return render(request, "ta/students.html", session, exercises=exercises, rows=rows)


@router.get("/students/{user_id}", response_class=HTMLResponse)
def student_page(request: Request, user_id: int, db: DbSession, session: TaSession,
                 message: str | None = None, error: str | None = None) -> HTMLResponse:
    student = db.get(User, user_id)
    if student is None:
        raise HTTPException(404, f"no user {user_id}")
    subs = list(db.scalars(select(Submission).options(selectinload(Submission.items))
                           .where(Submission.user_id == user_id).order_by(Submission.created_at.desc())))
    overrides = overrides_for(db, [s.id for s in subs])
    exercises = list(graders.exercise_ids())
    grades = {ex: counted_for(ex, [s for s in subs if s.exercise == ex], overrides) for ex in exercises}
    attempts = [{"sub": s, "items": effective_items(s, overrides.get(s.id, {})) if s.status == "graded" else [],
                 "total": effective_score(s, overrides.get(s.id, {}))} for s in subs]
    lti_targets = list(db.scalars(select(LtiGradeTarget).where(LtiGradeTarget.user_id == user_id)
                                  .order_by(LtiGradeTarget.exercise)))
    return render(request, "ta/student.html", session, student=student, grades=grades, attempts=attempts,
                  max_scores={ex: graders.rubric(ex).max_points for ex in exercises}, lti_targets=lti_targets,
                  message=message, error=error)


@router.get("/grades.csv")
def grades_csv_page(db: DbSession, session: TaSession) -> Response:
    """The Moodle CSV for a signed-in TA's browser (the API's endpoint wants the bearer header)."""
    from app.routes.exports import grades_csv

    return grades_csv(db)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, db: DbSession, session: TaSession) -> HTMLResponse:
    entries = list(db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(500)))
    return render(request, "ta/audit.html", session, entries=entries)


def _back(next_path: str, **params: str) -> RedirectResponse:
    path = next_path if next_path.startswith("/ta") and not next_path.startswith("//") else "/ta/review"
    return RedirectResponse(f"{path}?{urlencode(params)}", status_code=303)


@router.post("/override")
def override_form(
    services: ServicesDep, db: DbSession, session: TaSession,
    csrf: Annotated[str, Form()], submission_id: Annotated[str, Form(max_length=36)],
    item: Annotated[str, Form(max_length=64)], action: Annotated[str, Form(pattern="^(override|accept)$")],
    comment: Annotated[str, Form(max_length=2000)] = "", score: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form(max_length=200)] = "/ta/review",
) -> Response:
    check_csrf(session, csrf)
    try:
        if action == "accept":
            body = OverrideIn(item=item, accept=True, comment=comment)
        else:
            body = OverrideIn(item=item, score=float(score), comment=comment)
    except (ValidationError, ValueError):
        return _back(next, error=f"{item}: give points (a number) and a comment for the student")
    try:
        result = apply_override(services, db, session.user, submission_id, body)
    except HTTPException as exc:
        return _back(next, error=str(exc.detail))
    verb = "accepted at" if action == "accept" else "set to"
    return _back(next, message=f"{item} {verb} {result.item.score:g} P")


@router.post("/regrade")
def regrade_form(services: ServicesDep, db: DbSession, session: TaSession, csrf: Annotated[str, Form()],
                 exercise: Annotated[str, Form(max_length=32)] = "") -> Response:
    check_csrf(session, csrf)
    batch = start_regrade(services.queue, db, session.user, exercise or None)
    total = len(db.get(RegradeBatch, batch.id).jobs)
    message = f"Regrade {batch.id[:8]} started: {total} submissions"
    return RedirectResponse(f"/ta?{urlencode({'message': message})}", status_code=303)
