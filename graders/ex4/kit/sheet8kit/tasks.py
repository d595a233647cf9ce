"""The task functions the grader runs on your files: on the server inside a sandbox, locally
in `python -m sheet8kit.check`. Each takes the inputs (`payload`) and the folder holding your
files, and returns only outputs (the scoring happens outside, against the reference).

Student errors come back as records, never as free text: an exception is reported by its
built-in type name and its line in solution.py, so no message can carry inputs out."""
from __future__ import annotations

import builtins
import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import torch

from sheet8kit.models import CosineCNN, RotAutoencoder, WeightsError, load_weights
from sheet8kit.wire import decode, encode

torch.set_num_threads(1)

SOLUTION_FILE = "solution.py"
WEIGHT_FILES = {"cosine_cnn": CosineCNN, "rot_autoencoder": RotAutoencoder}
WEIGHT_SUFFIXES = (".safetensors", ".pt")
# Eigen/SVD/PCA work ex4b may not use, refused where it is done (the server's sandbox refuses the
# same list; `python -m sheet8kit.check` too): torch operators at the dispatcher (every
# torch.linalg eigen/SVD function, torch.svd, Tensor.svd, pca_lowrank, lobpcg, ... ends in one of
# them), numpy's LAPACK gufuncs beneath numpy.linalg, and scipy and sklearn at import.
BLOCKED_ROUTINES = (
    "aten::_linalg_eigh", "aten::linalg_eig", "aten::_linalg_eigvals", "aten::_linalg_svd",
    "numpy.linalg._umath_linalg.eig", "numpy.linalg._umath_linalg.eigvals",
    "numpy.linalg._umath_linalg.eigh_lo", "numpy.linalg._umath_linalg.eigh_up",
    "numpy.linalg._umath_linalg.eigvalsh_lo", "numpy.linalg._umath_linalg.eigvalsh_up",
    "numpy.linalg._umath_linalg.svd", "numpy.linalg._umath_linalg.svd_f",
    "numpy.linalg._umath_linalg.svd_s", "module:scipy", "module:sklearn",
)


def error_record(exc: BaseException) -> dict[str, Any]:
    """{"type": built-in exception name or "Exception", "line": line in solution.py or None}."""
    name = type(exc).__name__
    if getattr(builtins, name, None) is not type(exc):
        name = "Exception"
    line = None
    if isinstance(exc, SyntaxError) and Path(exc.filename or "").name == SOLUTION_FILE:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).name == SOLUTION_FILE:
            line = frame.lineno
    return {"type": name, "line": line if isinstance(line, int) else None}


def load_solution(workdir: Path) -> ModuleType:
    path = Path(workdir) / SOLUTION_FILE
    spec = importlib.util.spec_from_file_location("solution", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["solution"] = module
    spec.loader.exec_module(module)
    return module


def _solution_function(workdir: Path, name: str) -> Callable | dict[str, Any]:
    """The student's function, or a status record saying why there is none."""
    if not (Path(workdir) / SOLUTION_FILE).is_file():
        return {"status": "missing_file"}
    try:
        module = load_solution(workdir)
    except BaseException as exc:  # noqa: BLE001 - any failure of student code is reported, not raised
        return {"status": "import_error", "error": error_record(exc)}
    fn = getattr(module, name, None)
    if not callable(fn):
        return {"status": "missing_function", "name": name}
    return fn


NOT_AN_ARRAY = {"type": "not_an_array", "line": None}


def _call(fn: Callable, *args: Any) -> dict[str, Any]:
    """{"value": the result as a float64 array} or {"error": record}."""
    try:
        result = fn(*args)
    except BaseException as exc:  # noqa: BLE001 - SystemExit from student code is a result too
        return {"error": error_record(exc)}
    try:
        array = torch.as_tensor(result).detach().to(torch.float64).cpu().numpy()
    except Exception:  # noqa: BLE001 - strings, dicts, ragged lists
        return {"error": NOT_AN_ARRAY}
    return {"value": encode(array)}


def cosine_logits(payload: dict, workdir: Path) -> dict[str, Any]:
    """payload {"cases": [{"z": (B, d), "W": (C, d), "tau": float}]} -> one output per case:
    {"value": (B, C) float64} or {"error": record}."""
    fn = _solution_function(workdir, "cosine_logits")
    if isinstance(fn, dict):
        return fn
    outputs = []
    for case in payload["cases"]:
        z = torch.from_numpy(decode(case["z"]).astype("float64"))
        W = torch.from_numpy(decode(case["W"]).astype("float64"))
        outputs.append(_call(fn, z, W, float(case["tau"])))
    return {"status": "ok", "outputs": outputs}


def train_linear_autoencoder(payload: dict, workdir: Path) -> dict[str, Any]:
    """payload {"datasets": [X (N, d) centred]} -> one output per data set:
    {"value": w (d,) float64} or {"error": record}."""
    fn = _solution_function(workdir, "train_linear_autoencoder")
    if isinstance(fn, dict):
        return fn
    outputs = []
    for data in payload["datasets"]:
        X = torch.from_numpy(decode(data).astype("float64"))
        outputs.append(_call(fn, X))
    return {"status": "ok", "outputs": outputs}


def weights_path(workdir: Path, stem: str) -> Path | None:
    for suffix in WEIGHT_SUFFIXES:
        if (path := Path(workdir) / f"{stem}{suffix}").is_file():
            return path
    return None


def _load_model(workdir: Path, stem: str) -> torch.nn.Module | dict[str, Any]:
    path = weights_path(workdir, stem)
    if path is None:
        return {"status": "missing_file"}
    try:
        return load_weights(WEIGHT_FILES[stem](), path)
    except WeightsError as exc:
        return {"status": "weights_error", "problem": exc.problem, "tensor": exc.tensor,
                "got": list(exc.got), "expected": list(exc.expected)}
    except Exception as exc:  # noqa: BLE001 - a corrupt or hostile file
        return {"status": "unreadable", "error": error_record(exc)}


def cosine_cnn(payload: dict, workdir: Path) -> dict[str, Any]:
    """payload {"images": (N, 1, 8, 8)} -> {"cosines": (N, 10)}, cos(w_c, phi(x)) per class."""
    model = _load_model(workdir, "cosine_cnn")
    if isinstance(model, dict):
        return model
    with torch.no_grad():
        cosines = model.cosines(torch.from_numpy(decode(payload["images"]).astype("float32")))
    return {"status": "ok", "cosines": encode(cosines.to(torch.float64).numpy())}


def rot_autoencoder(payload: dict, workdir: Path) -> dict[str, Any]:
    """payload {"images": rotated digits (N, 1, 8, 8)} -> {"reconstructions": (N, 1, 8, 8)}."""
    model = _load_model(workdir, "rot_autoencoder")
    if isinstance(model, dict):
        return model
    with torch.no_grad():
        out = model(torch.from_numpy(decode(payload["images"]).astype("float32")))
    return {"status": "ok", "reconstructions": encode(out.to(torch.float64).numpy())}
