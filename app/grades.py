"""Counted grades per student and exercise. By default a student's best graded submission counts."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

import graders

from app.models import Role, Submission, User
from app.schemas import ExerciseGrade, StudentGrades, UserRef

COUNTING = "best"


def student_grades(db: Session, students: Iterable[User]) -> list[StudentGrades]:
    students = list(students)
    ids = [s.id for s in students]
    best: dict[tuple[int, str], tuple[float, str]] = {}
    counts: defaultdict[tuple[int, str], int] = defaultdict(int)
    if ids:
        rows = db.execute(
            select(Submission.user_id, Submission.exercise, Submission.id, Submission.score, Submission.status)
            .where(Submission.user_id.in_(ids))
            .order_by(Submission.created_at)
        ).all()
        for user_id, exercise, submission_id, score, status in rows:
            counts[(user_id, exercise)] += 1
            if status == "graded" and score is not None:
                current = best.get((user_id, exercise))
                if current is None or score > current[0]:  # ties: the earlier submission counts
                    best[(user_id, exercise)] = (score, submission_id)
    exercises = [(ex, graders.rubric(ex).max_points) for ex in graders.exercise_ids()]
    out = []
    for student in students:
        grades = []
        for exercise, max_points in exercises:
            counted = best.get((student.id, exercise))
            grades.append(ExerciseGrade(
                exercise=exercise,
                score=counted[0] if counted else None,
                max_score=max_points,
                submission_id=counted[1] if counted else None,
                submissions=counts[(student.id, exercise)],
            ))
        out.append(StudentGrades(
            student=UserRef.of(student),
            exercises=grades,
            total=round(sum(g.score or 0.0 for g in grades), 2),
            max_total=sum(m for _, m in exercises),
            counting=COUNTING,
        ))
    return out


def all_students(db: Session) -> list[User]:
    return list(db.scalars(select(User).where(User.role == Role.student.value).order_by(User.name, User.id)))
