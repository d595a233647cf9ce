"""What a checker returns for one rubric item, before it is turned into points."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    """`fraction` of the item's points (0..1), feedback for the student, and whether a TA
    should look at it because the checker is not sure."""

    fraction: float
    feedback: str
    needs_review: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0 or self.fraction != self.fraction:
            raise ValueError(f"fraction must lie in [0, 1], got {self.fraction!r}")


NOT_ANSWERED = Mark(0.0, "Not answered.")
