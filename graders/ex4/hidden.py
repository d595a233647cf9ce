"""Hidden inputs of Exercise 4, generated in the trusted parent from the rubric's seeds.

Nothing here is in the starter kit; only model inputs (never the expected outputs, nor the
upright test digits of ex4d) are sent into the sandbox."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from graders.ex4.kit_path import ensure_kit_importable

ensure_kit_importable()

import torch  # noqa: E402

from sheet8kit.data import all_digits, random_angles, rotate, train_val_indices  # noqa: E402
from sheet8kit.synthetic import centred_data, random_spectrum  # noqa: E402


@dataclass(frozen=True)
class CosineCase:
    label: str  # what the case probes, safe to show in feedback
    z: np.ndarray
    W: np.ndarray
    tau: float


def _log_uniform_norms(rng: np.random.Generator, rows: int, low: float, high: float) -> np.ndarray:
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), (rows, 1))


def _frozen(*arrays: np.ndarray) -> None:
    """Cached inputs are shared between gradings: make them read-only."""
    for array in arrays:
        array.flags.writeable = False


@lru_cache(maxsize=4)
def cosine_cases(seed: int) -> tuple[CosineCase, ...]:
    """Ordinary inputs, then tiny and huge norms (1e-6 ... 1e6), extreme temperatures and shapes."""
    rng = np.random.default_rng(seed)

    def case(label: str, b: int, c: int, d: int, tau: float, z_norms=(1.0, 1.0), w_norms=(1.0, 1.0)) -> CosineCase:
        z = rng.standard_normal((b, d))
        W = rng.standard_normal((c, d))
        z *= _log_uniform_norms(rng, b, *z_norms) / np.linalg.norm(z, axis=1, keepdims=True)
        W *= _log_uniform_norms(rng, c, *w_norms) / np.linalg.norm(W, axis=1, keepdims=True)
        _frozen(z, W)
        return CosineCase(label, z, W, tau)

    return (
        case("ordinary inputs", 8, 10, 32, 1.0, (0.5, 3), (0.5, 3)),
        case("ordinary inputs", 16, 10, 32, 0.1, (0.5, 3), (0.5, 3)),
        case("unit-norm class weights", 8, 10, 32, 0.5, (0.5, 3)),
        case("tiny feature norms", 8, 10, 32, 0.2, (1e-6, 1e-5)),
        case("huge feature norms", 8, 10, 32, 0.2, (1e5, 1e6)),
        case("tiny class-weight norms", 8, 10, 32, 1.0, (0.5, 3), (1e-6, 1e-5)),
        case("huge class-weight norms", 8, 10, 32, 1.0, (0.5, 3), (1e5, 1e6)),
        case("norms from 1e-6 to 1e6", 32, 10, 32, 0.5, (1e-6, 1e6), (1e-6, 1e6)),
        case("small temperature", 8, 10, 32, 0.01, (1e-6, 1e6), (0.5, 3)),
        case("large temperature", 8, 10, 32, 20.0, (0.5, 3), (1e-6, 1e6)),
        case("a batch of one", 1, 10, 32, 0.3, (0.5, 3), (0.5, 3)),
        case("many classes, wide features", 64, 50, 128, 0.7, (1e-3, 1e3), (1e-3, 1e3)),
    )


@lru_cache(maxsize=4)
def linear_ae_datasets(seed: int, count: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """`count` centred data sets (X, u1) with an exactly known top eigenvector u1."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n, d = int(rng.integers(100, 501)), int(rng.integers(3, 17))
        X, u1 = centred_data(rng, n, random_spectrum(rng, d))
        _frozen(X, u1)
        out.append((X, u1))
    return tuple(out)


@lru_cache(maxsize=1)
def test_split() -> tuple[np.ndarray, np.ndarray]:
    """The digits the kit does not hand out: images (N, 1, 8, 8) in [0, 1] and labels."""
    images, labels = all_digits()
    train_idx, val_idx = train_val_indices()
    test_idx = np.setdiff1d(np.arange(len(labels)), np.concatenate([train_idx, val_idx]))
    images, labels = images[test_idx], labels[test_idx]
    _frozen(images, labels)
    return images, labels


@lru_cache(maxsize=4)
def rotated_test_digits(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(rotated inputs, upright targets): `count` digits of the hidden test split, chosen and
    rotated by the hidden seed (a small set keeps the sandboxed forward pass fast)."""
    images, _ = test_split()
    chosen = np.sort(np.random.default_rng(seed).choice(len(images), size=min(count, len(images)), replace=False))
    upright = images[chosen]
    x = torch.from_numpy(upright)
    rotated = rotate(x, random_angles(len(x), torch.Generator().manual_seed(seed))).numpy()
    _frozen(rotated, upright)
    return rotated, upright
