"""Counted grades per student and exercise, as the course policies say (app/policies.yaml)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import graders

from app.gradebook import counted_for, overrides_for
from app.models import Role, Submission, User
from app.policies import policy_for
from app.schemas import ExerciseGrade, StudentGrades, UserRef

def _counting(exercises: list[str]) -> str:
    rules = {ex: policy_for(ex).counts for ex in exercises}
    if len(set(rules.values())) == 1:
        return next(iter(rules.values()))
    return ", ".join(f"{ex}: {rule}" for ex, rule in rules.items())


def student_grades(db: Session, students: Iterable[User]) -> list[StudentGrades]:
    """Each student's counted grade per exercise: the submission the exercise's policy picks
    (best or last), with TA overrides and the late penalty applied (app.gradebook)."""
    students = list(students)
    ids = [s.id for s in students]
    subs: defaultdict[tuple[int, str], list[Submission]] = defaultdict(list)
    if ids:
        for sub in db.scalars(
            select(Submission).options(selectinload(Submission.items))
            .where(Submission.user_id.in_(ids)).order_by(Submission.created_at)
        ):
            subs[(sub.user_id, sub.exercise)].append(sub)
    overrides = overrides_for(db, [s.id for group in subs.values() for s in group if s.status == "graded"])
    exercises = [(ex, graders.rubric(ex).max_points) for ex in graders.exercise_ids()]
    out = []
    for student in students:
        grades = []
        for exercise, max_points in exercises:
            mine = subs[(student.id, exercise)]
            counted = counted_for(exercise, mine, overrides)
            grades.append(ExerciseGrade(
                exercise=exercise,
                score=counted.score if counted else None,
                max_score=max_points,
                submission_id=counted.submission_id if counted else None,
                submissions=len(mine),
                late_penalty=counted.penalty if counted else 0.0,
            ))
        out.append(StudentGrades(
            student=UserRef.of(student),
            exercises=grades,
            total=round(sum(g.score or 0.0 for g in grades), 2),
            max_total=sum(m for _, m in exercises),
            counting=_counting([ex for ex, _ in exercises]),
        ))
    return out


def all_students(db: Session) -> list[User]:
    return list(db.scalars(select(User).where(User.role == Role.student.value).order_by(User.name, User.id)))
