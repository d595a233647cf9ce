"""Dependencies for routes: the services, a database session, the current user, role checks.

    @router.get("/thing", dependencies=[Depends(require_roles(Role.ta))])
    def thing(db: DbSession, user: CurrentUser): ...
"""
from __future__ import annotations

from typing import Annotated, Callable, Iterator

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth import user_for_token
from app.models import Role, User
from app.services import Services

bearer = HTTPBearer(auto_error=False, description="a personal token (student, TA or LMS)")


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_db(services: Annotated[Services, Depends(get_services)]) -> Iterator[Session]:
    with services.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]
ServicesDep = Annotated[Services, Depends(get_services)]


def get_current_user(
    db: DbSession, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, "missing bearer token: send 'Authorization: Bearer <token>'", headers=challenge)
    user = user_for_token(db, credentials.credentials)
    if user is None:
        raise HTTPException(401, "invalid or revoked token", headers=challenge)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    allowed = {r.value for r in roles}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise HTTPException(403, f"this needs the role {' or '.join(sorted(allowed))}; your token is a {user.role}'s")
        return user

    return check


def is_staff(user: User) -> bool:
    """TAs see every student's work."""
    return user.role == Role.ta.value
