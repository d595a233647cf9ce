"""Callables a job may not use (ex4b: no eigen/SVD/PCA routine), patched in the job process
before any student code is imported.

A name is a dotted path: `torch.linalg.eigh`, `torch.Tensor.svd`, `sklearn.decomposition.PCA`.
Modules already loaded (numpy and torch are preloaded in the zygote) are patched at once; a
module the job imports later (scipy, sklearn) is patched right after it loads, through an
import hook, so `from scipy.linalg import eigh` inside student code gets the refusing stub."""
from __future__ import annotations

import importlib.abc
import sys
from typing import Any, Callable

attempted: list[str] = []


class BlockedCallError(RuntimeError):
    """Raised by a blocked callable."""


def _refusing(name: str) -> Callable[..., Any]:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        attempted.append(name)
        raise BlockedCallError(f"{name} is not allowed in this exercise")

    refuse.__name__ = refuse.__qualname__ = name.rsplit(".", 1)[-1]
    return refuse


def _patch(module: Any, attr_path: list[str], name: str) -> bool:
    owner = module
    for part in attr_path[:-1]:
        owner = getattr(owner, part, None)
        if owner is None:
            return False
    if not hasattr(owner, attr_path[-1]):
        return False
    try:
        setattr(owner, attr_path[-1], _refusing(name))
    except (AttributeError, TypeError):
        return False  # a read-only builtin attribute: block its public aliases instead
    return True


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Wraps the loader of a watched module so the patches run right after it executes."""

    def __init__(self, pending: dict[str, list[tuple[list[str], str]]]):
        self.pending = pending

    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname not in self.pending:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PatchingLoader(spec.loader, self.pending[fullname])
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner: Any, patches: list[tuple[list[str], str]]):
        self.inner = inner
        self.patches = patches

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        return self.inner.create_module(spec)

    def exec_module(self, module):  # type: ignore[no-untyped-def]
        self.inner.exec_module(module)
        for attr_path, name in self.patches:
            _patch(module, attr_path, name)


def block(names: list[str]) -> None:
    """Make every named callable raise BlockedCallError in this process."""
    pending: dict[str, list[tuple[list[str], str]]] = {}
    for name in names:
        parts = name.split(".")
        # every split into module + attribute path: `scipy.linalg` + `eigh`, `scipy` + `linalg.eigh`
        for cut in range(len(parts) - 1, 0, -1):
            module_name, attr_path = ".".join(parts[:cut]), parts[cut:]
            if module_name in sys.modules:
                _patch(sys.modules[module_name], attr_path, name)
            else:
                pending.setdefault(module_name, []).append((attr_path, name))
    if pending:
        sys.meta_path.insert(0, _PatchAfterImport(pending))
