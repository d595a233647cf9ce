"""One exercise's grader: its rubric plus the checkers the engines build from it."""
from __future__ import annotations

import hashlib
import logging
import uuid
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel

from graders.answers import answer_model
from graders.engines import Checker, make_checker
from graders.marks import NOT_ANSWERED, Mark
from graders.result import GradeResult, ItemResult
from graders.rubric import ANSWER_TYPES, ItemSpec, Rubric, load_rubric

log = logging.getLogger(__name__)

GRADERS_ROOT = Path(__file__).resolve().parent
INTERNAL_ERROR = Mark(
    0.0,
    "This item could not be graded automatically because of an internal error; a TA will look at it.",
    needs_review=True,
)


def _is_blank(answer: Any) -> bool:
    if answer is None:
        return True
    if isinstance(answer, str):
        return not answer.strip()
    if isinstance(answer, list):
        return all(_is_blank(a if not isinstance(a, dict) else a.get("expr")) for a in answer)
    return False


def source_digest(*folders: Path) -> str:
    """A digest of the grading code and data, so a stored grade names what produced it."""
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".yaml", ".yml", ".json"} and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(GRADERS_ROOT)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:12]


class ExerciseGrader:
    """Grades answer items by dispatching each to the engine its rubric entry names.

    Exercises whose items are not single answers (ex4: uploaded code and weights) subclass
    this and override `mark_files`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.rubric: Rubric = load_rubric(self.folder)

    @property
    def exercise(self) -> str:
        return self.rubric.exercise

    @cached_property
    def version(self) -> str:
        digest = source_digest(self.folder, GRADERS_ROOT / "engines")
        return f"{self.exercise}-{digest}"

    @property
    def answer_model(self) -> type[BaseModel]:
        return answer_model(self.rubric)

    @cached_property
    def checkers(self) -> dict[str, Checker]:
        return {i.id: make_checker(i, self.folder) for i in self.rubric.items if i.type in ANSWER_TYPES}

    def warm_up(self) -> None:
        """Build every checker now (load models, parse targets) instead of on the first answer."""
        self.checkers  # noqa: B018

    def mark_answer(self, item: ItemSpec, answer: Any) -> Mark:
        if _is_blank(answer):
            return NOT_ANSWERED
        try:
            return self.checkers[item.id](answer)
        except Exception:  # one broken item must not cost the others
            log.exception("checker for %s failed", item.id)
            return INTERNAL_ERROR

    def starter_kit(self) -> bytes | None:
        """A zip of programming files students download (contract: ex4), or None."""
        return None

    def mark_files(self, items: list[ItemSpec], files: Mapping[str, Path]) -> dict[str, Mark]:
        """Marks for `file` items; exercises that take uploads override this."""
        return {i.id: Mark(0.0, "This item is not graded automatically yet.") for i in items}

    def grade(
        self,
        answers: Mapping[str, Any] | BaseModel,
        files: Mapping[str, Path] | None = None,
        submission_id: str | None = None,
    ) -> GradeResult:
        """Grade one submission. `answers` is validated against the exercise's answer model
        (pydantic.ValidationError for unknown fields or bad shapes); `files` maps logical
        file names (the rubric's `files[].name`) to paths."""
        if not isinstance(answers, BaseModel):
            answers = self.answer_model.model_validate(dict(answers))
        values = answers.model_dump()
        marks: dict[str, Mark] = {}
        for item in self.rubric.answer_items:
            marks[item.id] = self.mark_answer(item, values.get(item.field))
        file_items = [i for i in self.rubric.items if i.type == "file"]
        if file_items:
            try:
                marks.update(self.mark_files(file_items, dict(files or {})))
            except Exception:
                log.exception("file items of %s failed", self.exercise)
                marks.update({i.id: INTERNAL_ERROR for i in file_items if i.id not in marks})
        items = [
            ItemResult(
                id=item.id,
                score=round(marks[item.id].fraction * item.points, 2),
                max_score=item.points,
                feedback=marks[item.id].feedback,
                needs_review=marks[item.id].needs_review,
            )
            for item in self.rubric.items
        ]
        return GradeResult(
            id=submission_id or str(uuid.uuid4()),
            exercise=self.exercise,
            status="graded",
            score=round(sum(i.score for i in items), 2),
            max_score=self.rubric.max_points,
            items=items,
            grader_version=self.version,
        )
