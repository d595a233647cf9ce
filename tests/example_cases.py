"""Cases in the public example format ({"submission": {"exercise", "answers"}, "expect":
{item_id: [lo, hi]}}), graded in-process the way ../shared/tools/check_examples.py grades them
through the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import graders


def items_outside_range(path: Path) -> list[str]:
    """One line per expected item whose score falls outside its [lo, hi]."""
    case = json.loads(path.read_text())
    submission = case["submission"]
    result = graders.grader(submission["exercise"]).grade(submission["answers"])
    items = {item.id: item for item in result.items}
    return [
        f"{item_id} = {items[item_id].score}, expected {lo}..{hi}: {items[item_id].feedback[:300]}"
        for item_id, (lo, hi) in case["expect"].items()
        if not lo - 1e-6 <= items[item_id].score <= hi + 1e-6
    ]
