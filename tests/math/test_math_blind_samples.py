"""The math engine's blind held-out cases (graders/engines/math/eval/blind*/: written before the
engine was read, each with the points range a careful TA gives per item) graded in-process:
every item must land in its range, so a change that moves one out fails here (check_examples.py
does the same via the CLI)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.example_cases import items_outside_range

EVAL = Path(__file__).resolve().parents[2] / "graders" / "engines" / "math" / "eval"
FIRST = sorted((EVAL / "blind").glob("*.json"))
SECOND = sorted((EVAL / "blind2").glob("*.json"))
THIRD = sorted((EVAL / "blind3").glob("*.json"))
FOURTH = sorted((EVAL / "blind4").glob("*.json"))
# Known misses (graders/engines/math/eval/blind*/README.md): strict, so a fix shows up.
KNOWN_MISSES = {
    "b4-ex1-tau-numpy-sum-squares": "np.sum(z**2): a sum without an index over vector components is not read",
    "b4-ex3-objective-numpy-norm": "np.mean([...]) is not a function of the language",
    "b3-ex1-drops-exp-bias-one-side": "exp(b_c) dropped from the numerator only is read as a wrong relation symbol (holds as ∝), 6.02 of 7; TA 2..5",
}
CASES = [
    pytest.param(p, id=p.stem, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[p.stem])) if p.stem in KNOWN_MISSES
    else pytest.param(p, id=p.stem)
    for p in FIRST + SECOND + THIRD + FOURTH
]


def test_there_are_enough_blind_cases():
    assert len(FIRST) >= 60 and len(SECOND) >= 50 and len(THIRD) >= 45 and len(FOURTH) >= 70


@pytest.mark.parametrize("path", CASES)
def test_blind_case_lands_in_the_ta_range(path: Path):
    outside = items_outside_range(path)
    assert not outside, "\n".join(outside)
