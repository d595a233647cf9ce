"""LTI 1.3 tool endpoints: OIDC login initiation, resource-link launch, and the tool's JWKS.

A launch signs the platform user in (a page session, as after a token login), links them to
a user here (by an earlier launch, the roster's external id or email, or a new account), and
remembers the AGS line item of the launched exercise: grades for it go back there."""
from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pylti1p3.exception import LtiException, OIDCException
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import graders

from app.auth import create_user
from app.deps import ServicesDep
from app.lti.adapter import StarletteLtiRequest, StarletteMessageLaunch, StarletteOIDCLogin
from app.lti.config import LtiNotConfigured, jwks, tool_config
from app.lti.hooks import grade_changed
from app.lti.passback import AGS_CLAIM, SCORE_SCOPE, TimeoutSession
from app.lti.store import DbLaunchDataStorage
from app.models import Role, User
from app.models.lti import LtiGradeTarget, LtiIdentity
from app.routes.pages import render, start_session
from app.services import Services

log = logging.getLogger(__name__)
router = APIRouter(prefix="/lti", include_in_schema=False)

CUSTOM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/custom"
ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"
LIS_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/lis"
# Platform roles that get the TA dashboard (LIS vocabulary, context and institution roles).
STAFF_ROLES = ("#Instructor", "#TeachingAssistant", "#Administrator", "#ContentDeveloper", "#Mentor")


def _conf():
    try:
        return tool_config()
    except LtiNotConfigured as exc:
        raise HTTPException(404, str(exc)) from None


def _refused(request: Request, exc: Exception) -> HTMLResponse:
    log.info("LTI request refused: %s", exc)
    return render(request, "error.html", None, status_code=400, title="The LMS launch could not be checked",
                  message=f"{exc}. Start again from the course page in your LMS.")


@router.get("/jwks", summary="The tool's public keys")
def tool_jwks() -> JSONResponse:
    return JSONResponse(jwks(_conf()))


@router.api_route("/login", methods=["GET", "POST"], summary="OIDC third-party login initiation")
async def login(request: Request, services: ServicesDep) -> Response:
    conf = _conf()
    lti_request = await StarletteLtiRequest.read(request)
    launch_url = str(request.url_for("lti_launch"))

    def run() -> Response:
        oidc = StarletteOIDCLogin(lti_request, conf, DbLaunchDataStorage(services.sessions))
        return oidc.redirect(launch_url)

    try:
        return await run_in_threadpool(run)
    except (OIDCException, LtiException) as exc:
        return _refused(request, exc)


def _is_staff(roles: list[str]) -> bool:
    return any(r.endswith(s) for r in roles for s in STAFF_ROLES)


def _link_user(db: Session, claims: dict[str, Any]) -> User:
    """The user this platform account is: linked before, or on the roster, or new."""
    iss, sub = claims["iss"], claims["sub"]
    identity = db.scalar(select(LtiIdentity).where(LtiIdentity.iss == iss, LtiIdentity.sub == sub))
    if identity is not None:
        return db.get(User, identity.user_id)
    role = Role.ta if _is_staff(claims.get(ROLES_CLAIM, [])) else Role.student
    email = claims.get("email") or None
    sourcedid = (claims.get(LIS_CLAIM) or {}).get("person_sourcedid")
    known = [User.external_id.in_([x for x in (sourcedid, sub) if x])]
    if email:
        known.append(User.email == email)
    user = db.scalar(select(User).where(or_(*known)).order_by(User.id).limit(1))
    if user is not None and user.role != role.value:
        raise LtiException(f"this LMS account matches a {user.role} here but launched as a {role.value}")
    if user is None:
        name = claims.get("name") or " ".join(
            x for x in (claims.get("given_name"), claims.get("family_name")) if x) or email or f"LTI user {sub}"
        user, _token = create_user(db, name[:200], role, email=email, external_id=sourcedid)
    db.add(LtiIdentity(iss=iss, sub=sub, user_id=user.id))
    return user


def _remember_grade_target(db: Session, user: User, claims: dict[str, Any], exercise: str) -> bool:
    ags = claims.get(AGS_CLAIM) or {}
    scopes = list(ags.get("scope") or [])
    if not ags.get("lineitem") or SCORE_SCOPE not in scopes:
        return False
    target = db.scalar(select(LtiGradeTarget).where(
        LtiGradeTarget.user_id == user.id, LtiGradeTarget.exercise == exercise,
        LtiGradeTarget.lineitem == ags["lineitem"]))
    if target is None:
        target = LtiGradeTarget(user_id=user.id, exercise=exercise, lineitem=ags["lineitem"])
        db.add(target)
    aud = claims["aud"]
    target.iss, target.sub, target.scopes = claims["iss"], claims["sub"], scopes
    target.client_id = aud[0] if isinstance(aud, list) else aud
    return True


def _launch(services: Services, lti_request: StarletteLtiRequest, conf, secure: bool) -> tuple[Response, int, str | None]:
    storage = DbLaunchDataStorage(services.sessions)
    launch = StarletteMessageLaunch(lti_request, conf, storage, TimeoutSession())
    claims = dict(launch.get_launch_data())  # validates state, nonce, signature, deployment, message
    if not launch.is_resource_launch():
        raise LtiException("only resource link launches are supported")
    # a nonce is good for one launch: a replayed id_token is refused
    storage.delete_value(f"lti1p3-nonce-{claims['nonce']}")
    exercise = (claims.get(CUSTOM_CLAIM) or {}).get("exercise")
    if exercise not in graders.exercise_ids():
        exercise = None
    with services.sessions() as db:
        try:
            user = _link_user(db, claims)
            db.flush()
        except IntegrityError:  # the same account launched twice at once: the other one linked it
            db.rollback()
            user = _link_user(db, claims)
        linked = exercise is not None and user.role == Role.student.value and \
            _remember_grade_target(db, user, claims, exercise)
        target = "/ta" if user.role == Role.ta.value else (f"/?exercise={exercise}" if exercise else "/")
        # The session cookie is SameSite=Strict: it is not sent on a redirect that started on
        # the platform's site, so our own page moves on (a same-site navigation).
        page = HTMLResponse(
            "<!doctype html><meta charset='utf-8'><title>Signed in</title>"
            f"<p>Signed in. <a id='go' href='{target}'>Continue</a></p>"
            f"<script>location.replace({json.dumps(target)});</script>"
        )
        start_session(db, user, page, secure)
        db.commit()
        return page, user.id, exercise if linked else None


@router.post("/launch", name="lti_launch", summary="LTI resource link launch (the OIDC form post)")
async def launch(request: Request, services: ServicesDep) -> Response:
    conf = _conf()
    lti_request = await StarletteLtiRequest.read(request)
    try:
        page, user_id, exercise = await run_in_threadpool(
            _launch, services, lti_request, conf, request.url.scheme == "https")
    except LtiException as exc:
        return _refused(request, exc)
    if exercise is not None:
        grade_changed(services.sessions, user_id, exercise)  # a grade from before the launch goes back too
    return page
