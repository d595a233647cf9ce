"""Exercise 4 — your solution. Fill in the four functions below; keep their names and signatures.

Submit this file together with cosine_cnn.safetensors and rot_autoencoder.safetensors.
Run `python -m sheet8kit.check` in this folder before you submit. See README.md."""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: F401  (you will likely need it)

from sheet8kit.data import load_splits, random_angles, rotate  # noqa: F401
from sheet8kit.models import CosineCNN, RotAutoencoder, save_weights  # noqa: F401


def cosine_logits(z: torch.Tensor, W: torch.Tensor, tau: float) -> torch.Tensor:
    """Task (a), Exercise 1: the logits cos(w_c, z_i) / tau.

    z: (B, d) features, W: (C, d) class weights (rows need NOT have unit norm), tau > 0.
    Returns a (B, C) tensor. Must stay finite for norms of z and w_c from 1e-6 to 1e6."""
    raise NotImplementedError("cosine_logits")


def train_linear_autoencoder(X: torch.Tensor, lr: float | None = None, steps: int = 5000, seed: int = 0) -> torch.Tensor:
    """Task (b), Exercise 2: a tied single-unit linear autoencoder s_i = w^T x_i, xhat_i = w s_i,
    trained by gradient descent on J(w) = 1/N sum_i ||x_i - xhat_i||^2.

    X: (N, d) centred data (float64; N <= 500, d <= 16, covariance eigenvalues between 0.05
    and 10). Returns w: (d,). Eigen/SVD/PCA routines are not allowed (the grader refuses them)."""
    raise NotImplementedError("train_linear_autoencoder")


def train_cosine_cnn(out_path: str | Path = "cosine_cnn.safetensors", epochs: int = 15, seed: int = 0) -> CosineCNN:
    """Task (c): train the kit's CosineCNN on the training split with cross-entropy on
    cosine_logits(model.features(x), model.class_weights, model.tau); save it with
    save_weights(model, out_path) and return it."""
    raise NotImplementedError("train_cosine_cnn")


def train_rot_autoencoder(out_path: str | Path = "rot_autoencoder.safetensors", epochs: int = 60, seed: int = 0) -> RotAutoencoder:
    """Task (d), Exercise 3a: train the kit's RotAutoencoder to map a randomly rotated digit
    rotate(x, random_angles(n, generator)) back to the upright digit x (MSE loss); save it with
    save_weights(model, out_path) and return it."""
    raise NotImplementedError("train_rot_autoencoder")


if __name__ == "__main__":  # training happens here, never at import: the grader imports this file
    torch.set_num_threads(1)
    train_cosine_cnn()
    train_rot_autoencoder()
