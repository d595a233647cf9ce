"""Exercise 4 unit tests: the kit, the starter zip, the reference, and the grader's parent side.
Only trusted code (the kit, the reference solution) runs in this process."""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from graders.ex4.kit_path import KIT_ROOT, ensure_kit_importable  # noqa: E402

ensure_kit_importable()
torch.set_num_threads(1)

from .paths import REFERENCE  # noqa: E402


@pytest.fixture
def reference_workdir(tmp_path: Path) -> Path:
    """A folder holding the reference solution and the reference weights, like a submission."""
    (tmp_path / "solution.py").write_bytes((REFERENCE / "solution.py").read_bytes())
    for weights in (REFERENCE / "weights").iterdir():
        (tmp_path / weights.name).write_bytes(weights.read_bytes())
    return tmp_path


@pytest.fixture
def kit_root() -> Path:
    return KIT_ROOT
