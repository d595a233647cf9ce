"""Graders for Exercise Sheet 8. This package never imports `app`."""
from graders.registry import UnknownExercise, exercise_ids, grader, rubric
from graders.result import GradeResult, ItemResult

__all__ = ["GradeResult", "ItemResult", "UnknownExercise", "exercise_ids", "grader", "rubric"]
