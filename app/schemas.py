"""Response and request bodies of the HTTP API. A submission is the result of contract §3a
(`graders.result.GradeResult`, keys unchanged) plus who sent it and when."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

from graders.result import GradeResult, ItemResult, Status

from app.models import Submission, User


class UserRef(BaseModel):
    id: int
    name: str
    email: str | None = None
    external_id: str | None = None

    @classmethod
    def of(cls, user: User) -> "UserRef":
        return cls(id=user.id, name=user.name, email=user.email, external_id=user.external_id)


class SubmissionItemOut(ItemResult):
    """An item of §3a. A TA's override replaces `score` (see app.gradebook.with_overrides)."""

    comment: str | None = Field(None, description="the TA's comment on this item, if a TA changed or checked it")
    auto_score: float | None = Field(None, description="TAs only: the automatic score, when a TA override replaced it")

    @model_serializer(mode="wrap")
    def _only_when_set(self, handler):
        # An item nobody touched has exactly the §3a keys.
        data = handler(self)
        for key in ("comment", "auto_score"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class SubmissionOut(GradeResult):
    """The result shape of contract §3a, plus `student`, `created_at`, `graded_at`, `error`."""

    items: list[SubmissionItemOut] = Field(default_factory=list)
    student: UserRef
    created_at: datetime
    graded_at: datetime | None = None
    error: str | None = Field(None, description="why grading failed (status `failed`)")

    @classmethod
    def of(cls, submission: Submission) -> "SubmissionOut":
        graded = submission.status == "graded"
        return cls(
            id=submission.id,
            exercise=submission.exercise,
            status=submission.status,  # type: ignore[arg-type]
            score=submission.score if graded else None,
            max_score=submission.max_score,
            items=[
                SubmissionItemOut(id=i.item_id, score=i.score, max_score=i.max_score, feedback=i.feedback,
                                  needs_review=i.needs_review)
                for i in submission.items
            ] if graded else [],
            grader_version=submission.grader_version or "",
            student=UserRef.of(submission.user),
            created_at=submission.created_at,
            graded_at=submission.graded_at,
            error=submission.error,
        )


class SubmissionSummary(BaseModel):
    id: str
    exercise: str
    status: Status
    score: float | None
    max_score: float
    student: UserRef
    created_at: datetime
    graded_at: datetime | None = None

    @classmethod
    def of(cls, submission: Submission) -> "SubmissionSummary":
        return cls(
            id=submission.id, exercise=submission.exercise, status=submission.status,  # type: ignore[arg-type]
            score=submission.score if submission.status == "graded" else None,
            max_score=submission.max_score, student=UserRef.of(submission.user),
            created_at=submission.created_at, graded_at=submission.graded_at,
        )


class SubmissionList(BaseModel):
    submissions: list[SubmissionSummary]
    total: int
    limit: int
    offset: int


class ItemOut(BaseModel):
    id: str
    field: str
    type: str
    points: float
    description: str


class PartOut(BaseModel):
    id: str
    title: str
    max_points: float
    items: list[ItemOut]


class FileOut(BaseModel):
    name: str
    accept: list[str]
    max_bytes: int
    description: str


class ExerciseOut(BaseModel):
    id: str
    title: str
    max_points: float
    parts: list[PartOut]
    files: list[FileOut]
    answer_schema: dict[str, Any] = Field(description="JSON schema of `answers` for this exercise")


class RosterStudent(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    external_id: str | None = Field(None, min_length=1, max_length=200, description="the LMS's user id")

    @model_validator(mode="after")
    def _identified(self) -> "RosterStudent":
        if not self.email and not self.external_id:
            raise ValueError("a student needs an email or an external_id")
        return self


class RosterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    students: list[RosterStudent] = Field(min_length=1, max_length=5000)


class RosterEntry(UserRef):
    token: str | None = Field(None, description="only for students created by this call; shown once")


class RosterOut(BaseModel):
    created: list[RosterEntry]
    existing: list[RosterEntry]


class ExerciseGrade(BaseModel):
    exercise: str
    score: float | None = Field(description="the counted grade; null if nothing graded yet")
    max_score: float
    submission_id: str | None = Field(description="the submission that counts")
    submissions: int = Field(description="how many submissions this student made for the exercise")
    late_penalty: float = Field(0.0, description="points the late penalty took off the counted submission")


class StudentGrades(BaseModel):
    student: UserRef
    exercises: list[ExerciseGrade]
    total: float
    max_total: float
    counting: str = Field(description="which submission counts per exercise, e.g. 'best' (app/policies.yaml)")


class GradesOut(BaseModel):
    students: list[StudentGrades]
