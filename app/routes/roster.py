"""Add students (TA, LMS). Idempotent: a student is known by external_id, else by email."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import create_user
from app.deps import DbSession, require_roles
from app.models import Role, User
from app.schemas import RosterEntry, RosterIn, RosterOut, RosterStudent

router = APIRouter(prefix="/roster", tags=["roster"])


def _find(db: Session, student: RosterStudent) -> User | None:
    if student.external_id:
        found = db.scalar(select(User).where(User.external_id == student.external_id))
        if found is not None or not student.email:
            return found
    return db.scalar(select(User).where(User.email == student.email))


def _apply(db: Session, body: RosterIn) -> RosterOut:
    created: list[RosterEntry] = []
    existing: list[RosterEntry] = []
    for student in body.students:
        user = _find(db, student)
        if user is not None:
            if user.role != Role.student.value:
                raise HTTPException(409, f"{student.email or student.external_id} belongs to a {user.role}, not a student")
            existing.append(RosterEntry(id=user.id, name=user.name, email=user.email, external_id=user.external_id))
            continue
        user, token = create_user(
            db, student.name, Role.student, email=student.email or None, external_id=student.external_id
        )
        created.append(RosterEntry(id=user.id, name=user.name, email=user.email, external_id=user.external_id, token=token))
    db.commit()
    return RosterOut(created=created, existing=existing)


@router.post(
    "",
    response_model=RosterOut,
    summary="Add students; returns tokens for the new ones (existing ones are left as they are)",
)
def add_students(
    body: RosterIn, db: DbSession, _user: Annotated[User, Depends(require_roles(Role.ta, Role.lms))]
) -> RosterOut:
    try:
        return _apply(db, body)
    except IntegrityError:
        # The same student added by a concurrent call, or an email and an external_id that
        # point at two different students: one retry sees the committed rows.
        db.rollback()
        try:
            return _apply(db, body)
        except IntegrityError:
            db.rollback()
            raise HTTPException(409, "an email or external_id in this roster belongs to another student") from None
