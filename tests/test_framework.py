"""The grading framework: rubric data, answer validation, and failure isolation per item."""
from pathlib import Path

import pytest
from pydantic import ValidationError

import graders
from graders.exercise import ExerciseGrader
from graders.marks import Mark


def test_the_sheet_has_four_exercises_worth_100_points():
    totals = {ex: graders.rubric(ex).max_points for ex in graders.exercise_ids()}
    assert totals == {"ex1": 30, "ex2": 20, "ex3": 15, "ex4": 35}
    assert sum(totals.values()) == 100


def test_item_ids_are_part_dot_field():
    ids = [i.id for i in graders.rubric("ex1").items]
    assert ids[:2] == ["ex1a.tau", "ex1a.derivation"]
    assert "ex4b.norm" in [i.id for i in graders.rubric("ex4").items]


def test_unknown_answer_field_is_refused():
    with pytest.raises(ValidationError, match="bogus"):
        graders.grader("ex2").grade({"bogus": "1"})


def test_oversized_text_is_refused():
    with pytest.raises(ValidationError):
        graders.grader("ex3").grade({"skip_connections": "x" * 2001})


def test_unknown_exercise():
    with pytest.raises(graders.UnknownExercise):
        graders.grader("ex9")


def test_left_out_part_is_zero_and_reported_not_answered():
    result = graders.grader("ex2").grade({})
    assert result.score == 0 and result.max_score == 20
    assert all(i.feedback == "Not answered." for i in result.items)


def test_a_failing_checker_costs_only_its_own_item(tmp_path: Path):
    folder = Path(graders.registry.folder("ex2"))
    grader = ExerciseGrader(folder)

    def broken(_answer):
        raise RuntimeError("boom")

    grader.checkers = {  # type: ignore[misc]
        "ex2a.derivation": broken,
        "ex2a.objective": lambda a: Mark(1.0, "ok"),
        "ex2a.alpha": lambda a: Mark(0.5, "half"),
    }
    result = grader.grade({"derivation": "J = 1", "objective": "u^T S u", "alpha": "1"})
    by_id = {i.id: i for i in result.items}
    assert by_id["ex2a.derivation"].score == 0 and by_id["ex2a.derivation"].needs_review
    assert "boom" not in by_id["ex2a.derivation"].feedback
    assert by_id["ex2a.objective"].score == 4
    assert by_id["ex2a.alpha"].score == 2
    assert result.score == 6


def test_mark_rejects_fractions_outside_unit_interval():
    with pytest.raises(ValueError):
        Mark(1.5, "too much")
