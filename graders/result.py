"""The result shape of contract §3a, shared by HTTP, the CLI and the exports."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["queued", "running", "graded", "failed"]


class ItemResult(BaseModel):
    id: str = Field(description="rubric item, '<part>.<field>'", examples=["ex1a.tau"])
    score: float
    max_score: float
    feedback: str = ""
    needs_review: bool = False


class GradeResult(BaseModel):
    id: str
    exercise: str
    status: Status
    score: float | None = None
    max_score: float
    items: list[ItemResult] = Field(default_factory=list)
    grader_version: str
