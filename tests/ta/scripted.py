"""A scripted grader for the TA/LMS tests: the real rubrics, answers marked by what they say,
and switches a test can flip between grading and regrading.

- "right" → full points; "unsure" → half the points and needs_review; anything else → 0;
- `fail_submissions`: those submission ids raise (a grader bug) when graded;
- `unsure_fraction`: what an "unsure" answer earns (change it to make a regrade differ);
- file items: full points when their file arrived, the feedback names the file received."""
from __future__ import annotations

import io
import threading
import zipfile
from functools import cached_property
from typing import Any

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

    def mark_files(self, items, files):
        """Full points for an item whose file arrived, named by what the grader received."""
        return {i.id: Mark(1.0, f"received {files[i.file].name}") if i.file in files else Mark(0.0, "file missing")
                for i in items}

    def starter_kit(self) -> bytes | None:
        if not self.rubric.files:
            return None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as kit:
            kit.writestr("solution.py", "def cosine_logits(z, W, tau):\n    raise NotImplementedError\n")
        return buffer.getvalue()

    def grade(self, answers, files=None, submission_id=None):
        with self.owner.lock:
            self.owner.calls.append(submission_id)
        if submission_id in self.owner.fail_submissions:
            raise RuntimeError("a bug in the grader")
        return super().grade(answers, files, submission_id)


class ScriptedGraders:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[str | None] = []
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
