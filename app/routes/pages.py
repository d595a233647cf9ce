"""Server-rendered pages: log in with the token, the student page (submit, read the grade as
it arrives), and the session helpers the TA pages share.

Pages authenticate with a session cookie (HttpOnly, SameSite=Strict) created from the
token at login; the API keeps accepting only the bearer header. Every state-changing page
request carries the session's CSRF token (a form field, or the X-CSRF-Token header)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

import graders

from app.auth import user_for_token
from app.deps import DbSession, ServicesDep
from app.feedback_html import feedback_html
from app.gradebook import counted_for, effective_items, effective_score, overrides_for, student_grades
from app.models import Role, Submission, User
from app.models.base import utcnow
from app.models.web_session import WebSession
from app.policies import policy_for

SESSION_COOKIE = "ag_session"
SESSION_LIFETIME = timedelta(hours=12)
CSRF_HEADER = "x-csrf-token"

APP_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = APP_DIR / "static"
templates = Jinja2Templates(directory=str(APP_DIR / "templates"))


def _points(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


templates.env.filters["points"] = _points
templates.env.filters["when"] = _when
templates.env.filters["feedback_html"] = feedback_html
templates.env.filters["extension"] = lambda name: PurePosixPath(name).suffix

router = APIRouter(include_in_schema=False)


# --- sessions ----------------------------------------------------------------------------

def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(db: Session, user: User, response: Response, secure: bool) -> None:
    """A new browser session for `user`; the cookie goes on `response`. Caller commits."""
    session_id = secrets.token_urlsafe(32)
    db.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
    db.add(WebSession(id_hash=_hash(session_id), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                      expires_at=utcnow() + SESSION_LIFETIME))
    response.set_cookie(SESSION_COOKIE, session_id, max_age=int(SESSION_LIFETIME.total_seconds()),
                        httponly=True, samesite="strict", secure=secure, path="/")


def page_session(request: Request, db: DbSession) -> WebSession | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    found = db.get(WebSession, _hash(session_id))
    if found is None or found.expires_at < utcnow():
        return None
    return found


PageSession = Annotated[WebSession | None, Depends(page_session)]


def require_page_user(request: Request, session: PageSession) -> WebSession:
    if session is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "log in first", headers={"Location": f"/login?{urlencode({'next': here})}"})
    return session


def require_page_ta(session: Annotated[WebSession, Depends(require_page_user)]) -> WebSession:
    if session.user.role != Role.ta.value:
        raise HTTPException(403, "this page is for TAs")
    return session


UserSession = Annotated[WebSession, Depends(require_page_user)]
TaSession = Annotated[WebSession, Depends(require_page_ta)]


def check_csrf(session: WebSession, presented: str | None) -> None:
    if not presented or not hmac.compare_digest(presented, session.csrf_token):
        raise HTTPException(403, "the form is stale or did not come from this site; reload the page")


def render(request: Request, name: str, session: WebSession | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    user = session.user if session else None
    return templates.TemplateResponse(
        request, name, {"user": user, "csrf": session.csrf_token if session else "", **context},
        status_code=status_code,
    )


def _safe_next(target: str | None, default: str) -> str:
    """Only local paths: never redirect a login to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


@router.get("/static/{path:path}", name="static")
def static(path: str) -> FileResponse:
    target = (STATIC_DIR / path).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(target, headers={"Cache-Control": "max-age=3600"})


# --- login --------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> HTMLResponse:
    # empty: after login, students go to their page and TAs to the dashboard
    return render(request, "login.html", None, next=_safe_next(next, ""))


@router.post("/login")
def login(request: Request, db: DbSession, token: Annotated[str, Form(max_length=200)],
          next: Annotated[str, Form()] = "") -> Response:
    user = user_for_token(db, token.strip())
    if user is None:
        return render(request, "login.html", None, status_code=401, error="That token is not valid.",
                      next=_safe_next(next, ""))
    default = "/ta" if user.role == Role.ta.value else "/"
    response = RedirectResponse(_safe_next(next, default), status_code=303)
    start_session(db, user, response, request.url.scheme == "https")
    db.commit()
    return response


@router.post("/logout")
def logout(db: DbSession, session: UserSession, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(session, csrf)
    db.delete(session)
    db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- the student page ---------------------------------------------------------------------

def _policy_note(exercise: str) -> str:
    p = policy_for(exercise)
    notes = []
    if p.deadline:
        notes.append(f"Deadline {_when(p.deadline.astimezone(timezone.utc))}")
        if p.late_penalty_per_day:
            notes.append(f"−{p.late_penalty_per_day:.0%} of the points per started day late")
    if p.cutoff:
        notes.append(f"no submissions after {_when(p.cutoff.astimezone(timezone.utc))}")
    notes.append(f"your {p.counts} graded submission counts")
    if p.max_attempts:
        notes.append(f"at most {p.max_attempts} attempts")
    if p.rate_limit:
        notes.append(f"at most {p.rate_limit.count} submissions per {p.rate_limit.per_seconds // 60} minutes")
    return "; ".join(notes) + "."


@router.get("/", response_class=HTMLResponse)
def student_page(request: Request, db: DbSession, session: UserSession,
                 exercise: Annotated[str | None, Query(max_length=32)] = None) -> HTMLResponse:
    exercises = [graders.rubric(ex) for ex in graders.exercise_ids()]
    current = next((r for r in exercises if r.exercise == exercise), exercises[0] if exercises else None)
    user = session.user
    subs = list(db.scalars(
        select(Submission).options(selectinload(Submission.items))
        .where(Submission.user_id == user.id, Submission.exercise == current.exercise)
        .order_by(Submission.created_at.desc()).limit(50)
    )) if current else []
    overrides = overrides_for(db, [s.id for s in subs])
    rows = [{"id": s.id, "exercise": s.exercise, "status": s.status, "created_at": s.created_at,
             "max_score": s.max_score, "effective": effective_score(s, overrides.get(s.id, {}))} for s in subs]
    counted = student_grades(db, user.id, [r.exercise for r in exercises])
    grades = [{"exercise": r.exercise, "max_score": r.max_points, "counted": counted[r.exercise]} for r in exercises]
    return render(request, "student.html", session, exercises=exercises, current=current, submissions=rows,
                  grades=grades, idempotency_key=str(uuid.uuid4()),
                  policy_note=_policy_note(current.exercise) if current else "")


@router.post("/my/submissions")
async def submit_from_page(request: Request, response: Response, services: ServicesDep, db: DbSession,
                           session: UserSession) -> JSONResponse:
    """The student page's form, sent by its script as the API's multipart body; stored and
    queued by the API's own handler, so policies, limits and idempotency are the same."""
    from app.routes.submissions import create_submission

    check_csrf(session, request.headers.get(CSRF_HEADER))
    if len(request.headers.get("idempotency-key", "")) > 200:
        raise HTTPException(422, "Idempotency-Key: at most 200 characters")
    user = session.user
    if user.role not in (Role.student.value, Role.ta.value):
        raise HTTPException(403, "only students and TAs submit")
    out = await create_submission(request=request, response=response, services=services, db=db, user=user,
                                  idempotency_key=request.headers.get("idempotency-key"))
    return JSONResponse({"id": out.id, "url": f"/my/submissions/{out.id}"}, status_code=response.status_code or 202)


def _own_submission(db: Session, submission_id: str, user: User) -> Submission:
    sub = db.scalar(select(Submission).options(selectinload(Submission.items)).where(Submission.id == submission_id))
    if sub is None or (sub.user_id != user.id and user.role != Role.ta.value):
        raise HTTPException(404, f"no submission {submission_id}")
    return sub


@router.get("/my/starter/{exercise}")
async def starter_from_page(exercise: str, services: ServicesDep, session: UserSession) -> Response:
    """The starter kit for a signed-in browser (the API's endpoint wants the bearer header)."""
    from app.routes.exercises import starter_kit

    return await starter_kit(exercise=exercise, services=services, _user=session.user)


@router.get("/my/submissions/{submission_id}", response_class=HTMLResponse)
def submission_page(request: Request, submission_id: str, db: DbSession, session: UserSession) -> HTMLResponse:
    sub = _own_submission(db, submission_id, session.user)
    overrides = overrides_for(db, [sub.id]).get(sub.id, {})
    items = effective_items(sub, overrides) if sub.status == "graded" else []
    all_subs = list(db.scalars(select(Submission).options(selectinload(Submission.items)).where(
        Submission.user_id == sub.user_id, Submission.exercise == sub.exercise)))
    counted = counted_for(sub.exercise, all_subs, overrides_for(db, [s.id for s in all_subs]))
    return render(request, "submission.html", session, sub=sub, items=items, counted=counted,
                  total=effective_score(sub, overrides), show_auto=session.user.role == Role.ta.value,
                  poll_url=f"/my/submissions/{sub.id}/status?wait=20")


@router.get("/my/submissions/{submission_id}/status")
async def submission_status(request: Request, submission_id: str, services: ServicesDep, db: DbSession,
                            session: UserSession, wait: Annotated[float, Query(ge=0, le=30)] = 0) -> JSONResponse:
    """The page's long-poll: the API's own wait logic, authenticated by the session cookie."""
    from app.routes.submissions import get_submission

    user = session.user
    out = await get_submission(submission_id=submission_id, services=services, db=db, user=user, wait=wait)
    return JSONResponse({"id": out.id, "status": out.status, "score": out.score})
