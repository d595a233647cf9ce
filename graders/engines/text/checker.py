"""The `text` engine: `check: {engine: text, rubric: text/geometry.yaml}` in an exercise's
rubric.yaml. Building a checker only reads the YAML; the model loads on the first answer."""
from __future__ import annotations

from pathlib import Path

from graders.engines.text.scoring import TextGrader
from graders.engines.text.spec import load_text_rubric
from graders.rubric import ItemSpec


def make_checker(item: ItemSpec, folder: Path) -> TextGrader:
    name = item.check.get("rubric")
    if not name:
        raise ValueError(f"{item.id}: the text engine needs `rubric: <file>` in its check block")
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents:
        raise ValueError(f"{item.id}: rubric {name!r} lies outside {folder}")
    return TextGrader(load_text_rubric(path))
