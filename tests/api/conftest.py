"""A scripted grader for testing the service's plumbing (queue, storage, HTTP) without
depending on the engines: the real rubrics, answers marked by what they say.

- "right" → full points; "unsure" → half the points and needs_review; anything else → 0;
- an answer "crash" makes the whole grader raise (a grader bug);
- an answer "hold" makes grading wait until the test calls `graders.release()`.
File items score full points when their file arrived; the bytes received are recorded."""
from __future__ import annotations

import io
import threading
import zipfile
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

import pytest

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
                return Mark(0.5, "Partly right; a TA will check.", needs_review=True)
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
        if "crash" in values:
            raise RuntimeError("a bug in the grader")
        return super().grade(answers, files, submission_id)


class ScriptedGraders:
    def __init__(self) -> None:
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.calls: list[str | None] = []
        self.files_seen: list[dict[str, tuple[str, bytes]]] = []
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


@pytest.fixture
def scripted() -> ScriptedGraders:
    fakes = ScriptedGraders()
    yield fakes
    fakes.release()  # never leave a worker thread waiting


@pytest.fixture
def api(make_client, scripted, settings):
    """The app with in-process workers running the scripted grader."""
    return make_client(settings, grader_for=scripted)


def wait_for(api, submission_id: str, headers: dict, seconds: float = 20) -> dict:
    r = api.get(f"/api/v1/submissions/{submission_id}", params={"wait": seconds}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()
