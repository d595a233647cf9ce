"""Match uploaded filenames to the files an exercise accepts (its rubric's `files`)."""
from __future__ import annotations

from pathlib import PurePosixPath

from graders.rubric import FileSpec, Rubric


def match_upload(rubric: Rubric, filename: str) -> FileSpec | None:
    """The FileSpec an uploaded filename stands for; only the base name counts."""
    base = PurePosixPath(filename.replace("\\", "/")).name
    for spec in rubric.files:
        if base in spec.accept:
            return spec
    return None
