"""The grader of this exercise: its rubric, dispatched to the shared engines."""
from pathlib import Path

from graders.exercise import ExerciseGrader


def build() -> ExerciseGrader:
    return ExerciseGrader(Path(__file__).resolve().parent)
