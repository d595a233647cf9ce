"""The blind held-out cases of graders/samples_blind/ (written before the engine was read, each
with the points range a careful TA gives per item) graded in-process: every item must land in
its range, so a change that moves one out fails here (check_examples.py does the same via the CLI)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import graders

CASES = sorted((Path(__file__).resolve().parents[2] / "graders" / "samples_blind").glob("*.json"))


def test_there_are_at_least_60_blind_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_blind_case_lands_in_the_ta_range(path: Path):
    case = json.loads(path.read_text())
    submission = case["submission"]
    result = graders.grader(submission["exercise"]).grade(submission["answers"])
    items = {item.id: item for item in result.items}
    outside = [
        f"{item_id} = {items[item_id].score}, expected {lo}..{hi}: {items[item_id].feedback}"
        for item_id, (lo, hi) in case["expect"].items()
        if not lo - 1e-6 <= items[item_id].score <= hi + 1e-6
    ]
    assert not outside, "\n".join(outside)
