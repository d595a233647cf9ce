"""Centred data with an exactly known covariance, for testing the linear autoencoder (task b).

X = sqrt(N) Q diag(sqrt(lambda)) V^T with Q (N, d) orthonormal and centred, so that
S = X^T X / N = V diag(lambda) V^T exactly and the top eigenvector is V[:, 0]."""
from __future__ import annotations

import numpy as np


def centred_data(rng: np.random.Generator, n: int, eigenvalues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, d), u1 (d,)) for eigenvalues sorted largest first."""
    d = len(eigenvalues)
    Z = rng.standard_normal((n, d))
    Z -= Z.mean(axis=0)
    Q, _ = np.linalg.qr(Z)  # columns stay centred: they span the same space as Z's
    V, _ = np.linalg.qr(rng.standard_normal((d, d)))
    X = np.sqrt(n) * Q @ np.diag(np.sqrt(eigenvalues)) @ V.T
    return X, V[:, 0]


def random_spectrum(rng: np.random.Generator, d: int) -> np.ndarray:
    """A top eigenvalue in [2.5, 5] and the rest in [0.05, 2]: a clear gap, as promised in README."""
    rest = np.sort(rng.uniform(0.05, 2.0, d - 1))[::-1]
    return np.concatenate([[rng.uniform(2.5, 5.0)], rest])
