"""Rubric-level tests of Exercise 4: sample submissions (graders/ex4/samples/) graded through
the real sandbox, each result read against the rubric."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from graders.engines.sandbox import SandboxUnavailable, warm_up
from graders.ex4.grader import FOLDER, Ex4Grader
from graders.files import match_upload

SAMPLES = FOLDER / "samples"


@pytest.fixture(scope="session")
def sandbox() -> None:
    if os.geteuid() != 0:
        pytest.skip("the sandbox needs root (every job switches to its own uid)")
    try:
        warm_up()
    except SandboxUnavailable as exc:  # on a root machine this is a failure, not a skip
        pytest.fail(f"sandbox unavailable: {exc}")


@pytest.fixture(scope="session")
def ex4(sandbox) -> Ex4Grader:
    return Ex4Grader(FOLDER)


def sample_files(folder: Path, rubric) -> dict[str, Path]:
    """The uploads of a sample folder, matched by name as the CLI and the API do."""
    files = {}
    for path in sorted(folder.iterdir()):
        spec = match_upload(rubric, path.name)
        if spec is not None:
            files[spec.name] = path
    return files


@pytest.fixture(scope="session")
def graded(ex4):
    """graded(name) -> {item id: ItemResult}, each sample graded once per session."""
    cache: dict[str, dict] = {}

    def grade(name: str) -> dict:
        if name not in cache:
            result = ex4.grade({}, sample_files(SAMPLES / name, ex4.rubric))
            cache[name] = {i.id: i for i in result.items}
        return cache[name]

    return grade
