"""Ground truth for exercise 2: the covariance S = 1/N Σ x_i x_iᵀ of centred data and its top
eigenvector u₁ (the maximiser of uᵀSu over unit u)."""
from __future__ import annotations

import numpy as np


def covariance(X: np.ndarray) -> np.ndarray:
    """S = 1/N Σ x_i x_iᵀ for data X (N, d), centred first (the exercise assumes Σ x_i = 0)."""
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=0, keepdims=True)
    return Xc.T @ Xc / Xc.shape[0]


def top_eigenvector(X: np.ndarray) -> np.ndarray:
    """The unit eigenvector of S with the largest eigenvalue (sign fixed: largest entry positive)."""
    values, vectors = np.linalg.eigh(covariance(X))
    u = vectors[:, np.argmax(values)]
    return u if u[np.argmax(np.abs(u))] > 0 else -u


def reconstruction_error(X: np.ndarray, w: np.ndarray) -> float:
    """J(w) = 1/N Σ ‖x_i − w wᵀ x_i‖² of the tied single-unit linear autoencoder."""
    X = np.asarray(X, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    residual = X - np.outer(X @ w, w)
    return float((residual**2).sum(axis=1).mean())
