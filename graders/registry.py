"""Which exercises exist: every folder under `graders/` holding a `rubric.yaml`.

A new sheet means new folders; nothing here or in `app/` names an exercise."""
from __future__ import annotations

import importlib
import threading
from functools import lru_cache
from pathlib import Path

from graders.exercise import GRADERS_ROOT, ExerciseGrader
from graders.rubric import Rubric, load_rubric

_lock = threading.Lock()
_graders: dict[str, ExerciseGrader] = {}


class UnknownExercise(KeyError):
    pass


@lru_cache(maxsize=1)
def exercise_ids() -> tuple[str, ...]:
    return tuple(sorted(p.parent.name for p in GRADERS_ROOT.glob("*/rubric.yaml")))


@lru_cache(maxsize=None)
def rubric(exercise: str) -> Rubric:
    """The rubric alone, without building any engine (cheap, for catalogues and validation)."""
    if exercise not in exercise_ids():
        raise UnknownExercise(exercise)
    return load_rubric(GRADERS_ROOT / exercise)


def grader(exercise: str) -> ExerciseGrader:
    """The exercise's grader, built once per process: `graders/<exercise>/grader.py:build()`."""
    if exercise not in exercise_ids():
        raise UnknownExercise(exercise)
    with _lock:
        if exercise not in _graders:
            module = importlib.import_module(f"graders.{exercise}.grader")
            _graders[exercise] = module.build()
        return _graders[exercise]


def folder(exercise: str) -> Path:
    if exercise not in exercise_ids():
        raise UnknownExercise(exercise)
    return GRADERS_ROOT / exercise
