"""The sandbox engine: runs student code and student weights in a fresh, locked-down job forked
from a torch-preloaded zygote inside bubblewrap.

    from graders.engines.sandbox import run_task
    result = run_task("sheet8kit.tasks:cosine_logits", payload={...},
                      files={"solution.py": b"..."}, timeout_s=10.0,
                      blocked=["aten::_linalg_eigh", "numpy.linalg._umath_linalg.eigh_lo", "module:scipy"])

This package is also importable inside the sandbox (bound read-only at the same package path),
so kit tasks may use `encode_array` / `decode_array` there."""
from .arrays import ArrayDecodeError, decode_array, encode_array
from .client import (KINDS, SandboxConfig, SandboxUnavailable, TaskResult,
                     configure, run_task, shutdown, warm_up)

__all__ = ["ArrayDecodeError", "KINDS", "SandboxConfig", "SandboxUnavailable",
           "TaskResult", "configure", "decode_array", "encode_array", "run_task", "shutdown",
           "warm_up"]
