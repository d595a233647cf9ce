"""Task functions run inside the sandbox (signature `task(payload, workdir) -> JSON-able`)."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _solution(workdir: Path) -> Any:
    spec = importlib.util.spec_from_file_location("solution", workdir / "solution.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def empty(payload: dict, workdir: Path) -> None:
    return None


def echo(payload: dict, workdir: Path) -> Any:
    return payload


def import_solution_and_call(payload: dict, workdir: Path) -> Any:
    """Import solution.py and call `payload["function"](*payload.get("args", []))`."""
    function = getattr(_solution(workdir), payload["function"])
    return function(*payload.get("args", []))


def cosine_logits(payload: dict, workdir: Path) -> np.ndarray:
    """ex4a-like: the student's cosine_logits on a batch."""
    z, weights = torch.from_numpy(payload["z"]), torch.from_numpy(payload["W"])
    return _solution(workdir).cosine_logits(z, weights, float(payload["tau"]))


def train_autoencoder(payload: dict, workdir: Path) -> np.ndarray:
    """ex4b-like: the student's gradient-descent tied autoencoder on centered data."""
    return _solution(workdir).train_linear_autoencoder(torch.from_numpy(payload["X"]))


def load_weights(payload: dict, workdir: Path) -> dict[str, list[int]]:
    """Shapes of a state dict from a .pt (weights_only) or .safetensors file."""
    path = workdir / payload["file"]
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, weights_only=True)
    return {key: list(value.shape) for key, value in state.items()}


def load_weights_then_probe(payload: dict, workdir: Path) -> dict[str, Any]:
    """torch.load(weights_only=True) on a hostile file, then look for what its pickle would do."""
    import os

    try:
        torch.load(workdir / payload["file"], weights_only=True)
        outcome = "loaded"
    except Exception as exc:  # noqa: BLE001 - the refusal is the expected outcome
        outcome = f"{type(exc).__name__}: {exc}"
    return {"outcome": outcome[:500], "marker_exists": os.path.exists(payload["marker"])}
