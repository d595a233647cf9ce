"""Course policies per exercise (configuration in `policies.yaml`, not rubric):
deadline and late penalty, hard cut-off, which submission counts, attempt and rate limits.

Everything here is a pure function of the policy, the clock and the student's earlier
submissions, so routes, exports and reports apply the same rules."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Literal, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.settings import current_settings

DEFAULT_POLICIES_FILE = Path(__file__).resolve().parent / "policies.yaml"
POLICIES_FILE_ENV = "AUTOGRADER_POLICIES_FILE"


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(gt=0)
    per_seconds: int = Field(gt=0)


class Policy(BaseModel):
    """The policy of one exercise. A missing deadline means no late penalty."""

    model_config = ConfigDict(extra="forbid")

    deadline: datetime | None = None
    cutoff: datetime | None = None
    late_penalty_per_day: float = Field(default=0.0, ge=0, le=1)
    counts: Literal["best", "last"] = "best"
    max_attempts: int | None = Field(default=None, gt=0)
    rate_limit: RateLimit | None = None

    @field_validator("deadline", "cutoff")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give deadlines with a UTC offset, e.g. 2026-12-15T23:59:00+01:00")
        return value

    @model_validator(mode="after")
    def _cutoff_after_deadline(self) -> "Policy":
        if self.deadline and self.cutoff and self.cutoff < self.deadline:
            raise ValueError("cutoff is before the deadline")
        return self


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: dict = Field(default_factory=dict)
    exercises: dict[str, dict] = Field(default_factory=dict)

    def policy(self, exercise: str) -> Policy:
        merged = {**self.defaults, **self.exercises.get(exercise, {})}
        return Policy.model_validate(merged)


def policies_path() -> Path:
    return current_settings().policies_file or DEFAULT_POLICIES_FILE


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> PolicyFile:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    parsed = PolicyFile.model_validate(data)
    for exercise in parsed.exercises:  # fail on load, not on the first submission
        parsed.policy(exercise)
    parsed.policy("")
    return parsed


def policy_for(exercise: str, path: Path | None = None) -> Policy:
    """The exercise's policy: its entry over the defaults; defaults alone when it has none.
    The file is re-read when it changes, so a TA's edit applies without a restart."""
    path = path or policies_path()
    if not path.exists():
        return Policy()
    return _load(path, path.stat().st_mtime_ns).policy(exercise)


# --- may this student submit now? -------------------------------------------------------

@dataclass(frozen=True)
class Refusal(Exception):
    """A submission the policy refuses: an HTTP status, a message, and when to retry."""

    status: int
    detail: str
    retry_after: int | None = None

    def __str__(self) -> str:
        return self.detail


def check_submission(
    policy: Policy,
    now: datetime,
    earlier: Sequence[datetime],
    attempts_used: int,
) -> None:
    """Raise `Refusal` when a new submission is not allowed.

    `earlier`: when the student's earlier submissions to this exercise were made (all of
    them, for the rate limit); `attempts_used`: how many of them count as attempts (the
    caller leaves out gradings that failed on our side)."""
    if policy.cutoff is not None and now > policy.cutoff:
        raise Refusal(403, f"Submissions closed at the hard cut-off {policy.cutoff.isoformat()}.")
    if policy.max_attempts is not None and attempts_used >= policy.max_attempts:
        raise Refusal(403, f"All {policy.max_attempts} attempts for this exercise are used.")
    limit = policy.rate_limit
    if limit is not None:
        window = timedelta(seconds=limit.per_seconds)
        recent = sorted(t for t in earlier if now - t < window)
        if len(recent) >= limit.count:
            # the slot frees when the oldest submission that keeps the window full leaves it
            frees_at = recent[len(recent) - limit.count] + window
            wait = max(1, math.ceil((frees_at - now).total_seconds()))
            raise Refusal(
                429,
                f"At most {limit.count} submissions per {limit.per_seconds} s for this exercise; "
                f"try again in {wait} s.",
                retry_after=wait,
            )


# --- late penalty and the counted submission ------------------------------------------------

def days_late(policy: Policy, submitted_at: datetime) -> int:
    """Started days after the deadline (1 s late = 1 day)."""
    if policy.deadline is None or submitted_at <= policy.deadline:
        return 0
    return math.ceil((submitted_at - policy.deadline) / timedelta(days=1))


def late_penalty(policy: Policy, submitted_at: datetime, max_score: float) -> float:
    """Points taken off for lateness (never more than the whole exercise)."""
    fraction = min(1.0, days_late(policy, submitted_at) * policy.late_penalty_per_day)
    return round(fraction * max_score, 6)


@dataclass(frozen=True)
class Attempt:
    """One graded submission as the grade computation needs it."""

    submission_id: str
    submitted_at: datetime
    score: float  # after TA overrides, before the late penalty
    max_score: float


@dataclass(frozen=True)
class CountedGrade:
    submission_id: str
    raw_score: float
    penalty: float
    days_late: int
    score: float
    max_score: float


def apply_policy(policy: Policy, attempt: Attempt) -> CountedGrade:
    penalty = late_penalty(policy, attempt.submitted_at, attempt.max_score)
    return CountedGrade(
        submission_id=attempt.submission_id,
        raw_score=attempt.score,
        penalty=penalty,
        days_late=days_late(policy, attempt.submitted_at),
        score=round(max(0.0, attempt.score - penalty), 6),
        max_score=attempt.max_score,
    )


def counted_grade(policy: Policy, attempts: Sequence[Attempt]) -> CountedGrade | None:
    """The grade that counts: the best penalised score, or the last submission's.
    Submissions after the cut-off never count (the cut-off may have been moved)."""
    eligible = [a for a in attempts if policy.cutoff is None or a.submitted_at <= policy.cutoff]
    if not eligible:
        return None
    if policy.counts == "last":
        return apply_policy(policy, max(eligible, key=lambda a: a.submitted_at))
    graded = [apply_policy(policy, a) for a in eligible]
    # ties: the earlier submission, so the choice is stable
    order = {a.submission_id: a.submitted_at for a in eligible}
    return max(graded, key=lambda g: (g.score, -order[g.submission_id].timestamp()))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; the app stores UTC, so naive means UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
