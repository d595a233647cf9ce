"""What a job may not use, made to refuse in the job process before any student code is imported.

An entry of `blocked` takes one of three forms; each refuses at the layer where the work is done,
so every public or private alias of the same work is refused too:

- `aten::NAME`: a torch operator, refused at the dispatcher. Every overload of the op gets a
  kernel for the CPU key (and CompositeImplicitAutograd where the op has one) that records the
  attempt and raises, so `torch.linalg.eigh`, `torch.ops.aten._linalg_eigh`,
  `torch._C._VariableFunctions...`, tensors that require grad, vmap and Python composites over
  the op (torch.pca_lowrank, lobpcg) all end there.
- `module:PKG.MOD`: importing the module or any of its submodules raises ImportError and, when the
  student's code asked, records the attempt (an already loaded module is dropped from sys.modules,
  so `import` reaches the hook).
- `PKG.MOD.ATTR`: a Python callable replaced by a refusing stub, e.g. numpy's gufuncs
  `numpy.linalg._umath_linalg.eigh_lo`, which every numpy.linalg route calls. Loaded modules are
  patched at once; a module imported (or re-imported, reloaded) later is patched right after it
  executes, through an import hook.

This is a line against ordinary and moderately clever code, not against a determined attacker:
code in the job can find the torch Library object through `gc` and destroy it, load an
extension module by file path around the import hook, or call LAPACK through ctypes. The
sandbox contains what such code can do; the attempt itself is a matter for the course's rules."""
from __future__ import annotations

import importlib.abc
import sys
import warnings
from typing import Any, Callable

attempted: list[str] = []
_libraries: list[Any] = []  # the torch.library.Library objects: their registrations live as long as they do

ATEN_PREFIX, MODULE_PREFIX = "aten::", "module:"


class BlockedCallError(RuntimeError):
    """Raised by a blocked callable or operator."""


def _refusing(name: str) -> Callable[..., Any]:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        attempted.append(name)
        raise BlockedCallError(f"{name} is not allowed in this exercise")

    refuse.__name__ = refuse.__qualname__ = name.rsplit(".", 1)[-1].rsplit(":", 1)[-1]
    return refuse


# -- torch operators --------------------------------------------------------------------------
def _block_operators(names: list[str]) -> None:
    import torch

    library = torch.library.Library("aten", "IMPL")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Overriding a previously registered kernel" is the point
        for name in names:
            op = name[len(ATEN_PREFIX):]
            packet = getattr(torch.ops.aten, op, None)
            if packet is None:
                continue  # not an operator of this torch
            kernel = _refusing(name)
            for overload in packet.overloads():
                qualified = op if overload == "default" else f"{op}.{overload}"
                library.impl(qualified, kernel, "CPU")
                if torch._C._dispatch_has_kernel_for_dispatch_key(ATEN_PREFIX + qualified,
                                                                  "CompositeImplicitAutograd"):
                    library.impl(qualified, kernel, "CompositeImplicitAutograd")
    _libraries.append(library)


# -- modules ----------------------------------------------------------------------------------
def _under(fullname: str, modules: set[str]) -> str | None:
    for module in modules:
        if fullname == module or fullname.startswith(module + "."):
            return module
    return None


class _RefuseImport(importlib.abc.MetaPathFinder):
    """Refuses the import; records it as an attempt when the code asking is the student's (under
    `student_root`), not a library probing what is installed (torch._dynamo asks for sklearn)."""

    def __init__(self, modules: set[str], student_root: str | None):
        self.modules = modules
        self.student_root = student_root

    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        module = _under(fullname, self.modules)
        if module is None:
            return None
        if self._asked_by_student():
            attempted.append(MODULE_PREFIX + module)
        raise ImportError(f"importing {module} is not allowed in this exercise", name=fullname)

    def _asked_by_student(self) -> bool:
        if self.student_root is None:
            return True
        frame = sys._getframe(2)
        while frame is not None:  # the first frame outside the import machinery
            filename = frame.f_code.co_filename
            if not (filename.startswith("<frozen importlib") or "/importlib/" in filename):
                return filename.startswith(self.student_root)
            frame = frame.f_back
        return False


# -- Python callables -------------------------------------------------------------------------
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
        return False  # a read-only builtin attribute: block the layer beneath it instead
    return True


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Wraps the loader of a watched module so the patches run right after it executes."""

    def __init__(self, watched: dict[str, list[tuple[list[str], str]]]):
        self.watched = watched

    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname not in self.watched:
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
        spec.loader = _PatchingLoader(spec.loader, self.watched[fullname])
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


def _block_callables(names: list[str]) -> None:
    watched: dict[str, list[tuple[list[str], str]]] = {}
    for name in names:
        parts = name.split(".")
        # every split into module + attribute path: `scipy.linalg` + `eigh`, `scipy` + `linalg.eigh`
        for cut in range(len(parts) - 1, 0, -1):
            module_name, attr_path = ".".join(parts[:cut]), parts[cut:]
            watched.setdefault(module_name, []).append((attr_path, name))
            if module_name in sys.modules:
                _patch(sys.modules[module_name], attr_path, name)
    sys.meta_path.insert(0, _PatchAfterImport(watched))


def block(names: list[str], student_root: str | None = None) -> None:
    """Make every named operator, module and callable refuse in this process. A refused import
    counts as an attempt only when it comes from code under `student_root` (any code if None)."""
    operators = [n for n in names if n.startswith(ATEN_PREFIX)]
    modules = {n[len(MODULE_PREFIX):] for n in names if n.startswith(MODULE_PREFIX)}
    callables = [n for n in names if not n.startswith((ATEN_PREFIX, MODULE_PREFIX))]
    if operators:
        _block_operators(operators)
    if callables:
        _block_callables(callables)
    if modules:
        for loaded in [m for m in sys.modules if _under(m, modules)]:
            del sys.modules[loaded]
        sys.meta_path.insert(0, _RefuseImport(modules, student_root))
