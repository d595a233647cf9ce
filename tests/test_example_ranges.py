"""The public examples (../shared/examples), each with the points range a careful TA gives per
item, graded in-process: every item must land in its range. check_examples.py does the same
through the CLI; each exercise's own samples are held by the rubric tests beside them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import graders

REPO = Path(__file__).resolve().parents[1]
PUBLIC = sorted((REPO.parent / "shared" / "examples").glob("*.json")) or sorted(Path("/work/shared/examples").glob("*.json"))


def test_the_public_examples_are_there():
    assert len(PUBLIC) >= 10


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.stem)
def test_every_item_lands_in_the_ta_range(path: Path):
    case = json.loads(path.read_text())
    submission = case["submission"]
    result = graders.grader(submission["exercise"]).grade(submission["answers"])
    items = {item.id: item for item in result.items}
    outside = [
        f"{item_id} = {items[item_id].score}, expected {lo}..{hi}: {items[item_id].feedback[:200]}"
        for item_id, (lo, hi) in case["expect"].items()
        if not lo - 1e-6 <= items[item_id].score <= hi + 1e-6
    ]
    assert not outside, "\n".join(outside)
