"""Helpers for the sandbox tests: run a student `solution.py` through the test kit."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from graders.engines.sandbox import TaskResult, run_task

KIT = Path(__file__).parent / "kit"
# the tests' own eigen/SVD block list in the engine's three forms (the engine carries none)
EIGEN_BLOCKED = (
    "aten::_linalg_eigh", "aten::linalg_eig", "aten::_linalg_eigvals", "aten::_linalg_svd",
    "numpy.linalg._umath_linalg.eig", "numpy.linalg._umath_linalg.eigvals",
    "numpy.linalg._umath_linalg.eigh_lo", "numpy.linalg._umath_linalg.eigh_up",
    "numpy.linalg._umath_linalg.eigvalsh_lo", "numpy.linalg._umath_linalg.eigvalsh_up",
    "numpy.linalg._umath_linalg.svd", "numpy.linalg._umath_linalg.svd_f",
    "numpy.linalg._umath_linalg.svd_s", "module:scipy", "module:sklearn",
)


def run_solution(source: str, function: str = "main", args: list[Any] | None = None,
                 timeout_s: float = 2.0, files: dict[str, bytes] | None = None,
                 blocked: tuple[str, ...] = (), memory_bytes: int | None = None) -> TaskResult:
    all_files = {"solution.py": textwrap.dedent(source).encode(), **(files or {})}
    return run_task("sbxkit.tasks:import_solution_and_call",
                    {"function": function, "args": args or []}, files=all_files,
                    timeout_s=timeout_s, blocked=blocked, kit_root=KIT,
                    memory_bytes=memory_bytes)


