"""Counted grades: your own, or (TA, LMS) everyone's."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from app.deps import CurrentUser, DbSession, require_roles
from app.models import Role
from app.grades import all_students, student_grades
from app.schemas import GradesOut, StudentGrades

router = APIRouter(prefix="/grades", tags=["grades"])


@router.get("/me", response_model=StudentGrades, summary="Your counted grade per exercise and the total")
def my_grades(db: DbSession, user: CurrentUser) -> StudentGrades:
    return student_grades(db, [user])[0]


@router.get(
    "",
    response_model=GradesOut,
    summary="Every student's counted grades",
    dependencies=[Depends(require_roles(Role.ta, Role.lms))],
)
def all_grades(db: DbSession) -> GradesOut:
    return GradesOut(students=student_grades(db, all_students(db)))
