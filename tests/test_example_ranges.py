"""The public examples (../shared/examples), each with the points range a careful TA gives per
item, graded in-process: every item must land in its range. check_examples.py does the same
through the CLI; each exercise's own samples are held by the rubric tests beside them."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.example_cases import items_outside_range

REPO = Path(__file__).resolve().parents[1]
PUBLIC = sorted((REPO.parent / "shared" / "examples").glob("*.json")) or sorted(Path("/work/shared/examples").glob("*.json"))


def test_the_public_examples_are_there():
    assert len(PUBLIC) >= 10


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.stem)
def test_every_item_lands_in_the_ta_range(path: Path):
    outside = items_outside_range(path)
    assert not outside, "\n".join(outside)
