"""scikit-learn's bundled 8x8 digits (no download) with the fixed split of this exercise.

The kit hands out a training split and a public validation split; the grader keeps the rest
of the digits as its hidden test split."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

SPLIT_SEED = 8
N_TRAIN = 1200
N_VAL = 200
# Hidden and public rotations for the rotation autoencoder are drawn uniformly from this range.
MAX_ANGLE_DEG = 45.0


@dataclass(frozen=True)
class Split:
    """Images as float32 tensors (N, 1, 8, 8) scaled to [0, 1], labels as int64 (N,)."""

    x: torch.Tensor
    y: torch.Tensor


def all_digits() -> tuple[np.ndarray, np.ndarray]:
    """Every digit of the data set: images (1797, 1, 8, 8) in [0, 1] and labels (1797,)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    return images, digits.target.astype(np.int64)


def train_val_indices() -> tuple[np.ndarray, np.ndarray]:
    """The fixed indices of the training and validation splits into `all_digits()`."""
    order = np.random.default_rng(SPLIT_SEED).permutation(1797)
    return np.sort(order[:N_TRAIN]), np.sort(order[N_TRAIN : N_TRAIN + N_VAL])


def load_splits() -> tuple[Split, Split]:
    """(train, val)."""
    images, labels = all_digits()
    train_idx, val_idx = train_val_indices()
    return (
        Split(torch.from_numpy(images[train_idx]), torch.from_numpy(labels[train_idx])),
        Split(torch.from_numpy(images[val_idx]), torch.from_numpy(labels[val_idx])),
    )


def random_angles(n: int, generator: torch.Generator) -> torch.Tensor:
    """n angles in degrees, uniform in [-MAX_ANGLE_DEG, MAX_ANGLE_DEG]."""
    return (torch.rand(n, generator=generator, dtype=torch.float64) * 2 - 1) * MAX_ANGLE_DEG


def rotate(images: torch.Tensor, angles_deg: torch.Tensor) -> torch.Tensor:
    """Rotate each image (N, 1, 8, 8) about its centre by its angle (bilinear, zero outside)."""
    theta = angles_deg.to(torch.float64) * (math.pi / 180.0)
    cos, sin = torch.cos(theta), torch.sin(theta)
    zero = torch.zeros_like(theta)
    matrix = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(matrix.to(images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
