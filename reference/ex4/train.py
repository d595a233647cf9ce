"""`python -m reference.ex4.train`: train the reference models (deterministic, single-threaded),
save their weights beside this file, and measure what the ex4 thresholds refer to on the
grader's hidden inputs (reference/ex4/metrics.json)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import graders  # noqa: E402
from graders.ex4 import hidden  # noqa: E402
from reference.ex4 import solution  # noqa: E402
from sheet8kit.data import load_splits, random_angles, rotate  # noqa: E402

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE / "weights"
METRICS = HERE / "metrics.json"


def measure_cosine_cnn(model: torch.nn.Module) -> dict[str, float]:
    _, val = load_splits()
    x_test, y_test = hidden.test_split()
    with torch.no_grad():
        val_acc = (model.cosines(val.x).argmax(1) == val.y).double().mean().item()
        test_acc = (model.cosines(torch.tensor(x_test)).argmax(1).numpy() == y_test).mean()
    return {"val_accuracy": round(val_acc, 6), "test_accuracy": round(float(test_acc), 6), "test_size": len(y_test)}


def measure_rot_autoencoder(model: torch.nn.Module, seed: int, digits: int) -> dict[str, float]:
    _, val = load_splits()
    rotated_val = rotate(val.x, random_angles(len(val.y), torch.Generator().manual_seed(0)))
    rotated, upright = hidden.rotated_test_digits(seed, digits)
    with torch.no_grad():
        val_mse = torch.mean((model(rotated_val) - val.x) ** 2).item()
        test_mse = float(np.mean((model(torch.tensor(rotated)).numpy() - upright) ** 2))
    return {
        "seed": seed,
        "digits": len(upright),
        "test_mse": test_mse,
        "test_identity_mse": float(np.mean((rotated - upright) ** 2)),
        "val_mse": val_mse,
    }


def measure_linear_autoencoder(seed: int, count: int) -> dict[str, float]:
    cosines, norm_errors = [], []
    for X, u1 in hidden.linear_ae_datasets(seed, count):
        w = solution.train_linear_autoencoder(torch.tensor(X)).numpy()
        cosines.append(abs(float(w @ u1)) / float(np.linalg.norm(w)))
        norm_errors.append(abs(float(np.linalg.norm(w)) - 1))
    return {"min_abs_cos": min(cosines), "max_norm_error": max(norm_errors)}


def main() -> None:
    torch.set_num_threads(1)
    rubric = graders.rubric("ex4")
    WEIGHTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    cnn = solution.train_cosine_cnn(WEIGHTS / "cosine_cnn.safetensors")
    cnn_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ae = solution.train_rot_autoencoder(WEIGHTS / "rot_autoencoder.safetensors")
    ae_seconds = time.perf_counter() - started
    lin = rubric.item("ex4b.direction").check
    rot = rubric.item("ex4d.reconstruction").check
    metrics = {
        "cosine_cnn": {**measure_cosine_cnn(cnn), "train_seconds": round(cnn_seconds, 2)},
        "rot_autoencoder": {**measure_rot_autoencoder(ae, rot["seed"], rot["digits"]),
                            "train_seconds": round(ae_seconds, 2)},
        "linear_autoencoder": measure_linear_autoencoder(lin["seed"], lin["datasets"]),
        "torch": torch.__version__,
    }
    METRICS.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
