"""Helpers for the sandbox tests: run a student `solution.py` through the test kit."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from graders.engines.sandbox import TaskResult, run_task

KIT = Path(__file__).parent / "kit"


def run_solution(source: str, function: str = "main", args: list[Any] | None = None,
                 timeout_s: float = 2.0, files: dict[str, bytes] | None = None,
                 blocked: tuple[str, ...] = (), memory_bytes: int | None = None) -> TaskResult:
    all_files = {"solution.py": textwrap.dedent(source).encode(), **(files or {})}
    return run_task("sbxkit.tasks:import_solution_and_call",
                    {"function": function, "args": args or []}, files=all_files,
                    timeout_s=timeout_s, blocked=blocked, kit_root=KIT,
                    memory_bytes=memory_bytes)


