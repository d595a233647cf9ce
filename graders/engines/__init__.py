"""Shared grading engines. A rubric item names its engine in `check.engine`; the engine turns
the item's parameters into a checker: a callable from the student's answer to a Mark.

Engines are imported on first use, so that grading an ex2 answer never loads torch or the
sentence-embedding model."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

from graders.marks import Mark
from graders.rubric import ItemSpec

Checker = Callable[[Any], Mark]

# engine name -> module exposing `make_checker(item: ItemSpec, folder: Path) -> Checker`
ENGINES: dict[str, str] = {
    "math": "graders.engines.math.checker",
    "text": "graders.engines.text.checker",
}


def not_graded_yet(_answer: Any) -> Mark:
    return Mark(0.0, "This item is not graded automatically yet; it earns 0 points for now.")


def make_checker(item: ItemSpec, folder: Path) -> Checker:
    name = item.engine
    if name is None:
        return not_graded_yet
    if name not in ENGINES:
        raise ValueError(f"{item.id}: unknown engine {name!r}")
    module = importlib.import_module(ENGINES[name])
    return module.make_checker(item, folder)
