"""A scripted grader for testing the service's plumbing (queue, storage, HTTP, TA work, LTI)
without the engines: the real rubrics, answers marked by what they say.

- "right" → full points; "unsure" → `unsure_fraction` of the points and needs_review; else 0;
- an answer "crash", or a submission id in `fail_submissions`, makes the grader raise (a bug);
- an answer "hold" makes grading wait until the test calls `release()`;
- file items score full points when their file arrived; the bytes received are recorded."""
from __future__ import annotations

import io
import threading
import zipfile
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

import graders
from graders.exercise import ExerciseGrader
from graders.marks import Mark
from graders.registry import folder


class ScriptedGrader(ExerciseGrader):
    def __init__(self, exercise: str, owner: "ScriptedGraders") -> None:
        super().__init__(folder(exercise))
        self.owner = owner

    @cached_property
    def checkers(self):
        def check(answer: Any) -> Mark:
            if answer == "right":
                return Mark(1.0, "Correct.")
            if answer == "unsure":
                return Mark(self.owner.unsure_fraction, "Partly right; a TA will check.", needs_review=True)
            return Mark(0.0, "Not correct.")

        return {item.id: check for item in self.rubric.answer_items}

    def mark_files(self, items, files: Mapping[str, Path]) -> dict[str, Mark]:
        self.owner.files_seen.append({name: (path.name, path.read_bytes()) for name, path in files.items()})
        return {
            i.id: Mark(1.0, f"received {files[i.file].name}") if i.file in files else Mark(0.0, "file missing")
            for i in items
        }

    def starter_kit(self) -> bytes | None:
        if not self.rubric.files:
            return None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as kit:
            kit.writestr("solution.py", "def cosine_logits(z, W, tau):\n    raise NotImplementedError\n")
        return buffer.getvalue()

    def grade(self, answers, files=None, submission_id=None):
        values = list(dict(answers).values())
        with self.owner.lock:
            self.owner.calls.append(submission_id)
        if "hold" in values:
            self.owner.gate.wait(30)
        if "crash" in values or submission_id in self.owner.fail_submissions:
            raise RuntimeError("a bug in the grader")
        return super().grade(answers, files, submission_id)


class ScriptedGraders:
    """Stands in for `graders.grader`: one ScriptedGrader per exercise."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.calls: list[str | None] = []
        self.files_seen: list[dict[str, tuple[str, bytes]]] = []
        self.fail_submissions: set[str] = set()
        self.unsure_fraction = 0.5
        self._graders: dict[str, ScriptedGrader] = {}

    def __call__(self, exercise: str) -> ScriptedGrader:
        if exercise not in graders.exercise_ids():
            raise graders.UnknownExercise(exercise)
        with self.lock:
            if exercise not in self._graders:
                self._graders[exercise] = ScriptedGrader(exercise, self)
            return self._graders[exercise]

    def release(self) -> None:
        self.gate.set()
