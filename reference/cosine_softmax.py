"""Ground truth for exercise 1: the cosine softmax p(c|x) = softmax(cos(w_c, z)/τ) and its entropy."""
from __future__ import annotations

import numpy as np


def cosine_logits(z: np.ndarray, W: np.ndarray, tau: float | np.ndarray) -> np.ndarray:
    """cos(w_c, z)/τ for a batch: z (n, d), W (C, d) → (n, C). τ is a scalar or one per row."""
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    W = np.atleast_2d(np.asarray(W, dtype=np.float64))
    z_unit = z / np.linalg.norm(z, axis=1, keepdims=True)
    w_unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    tau = np.asarray(tau, dtype=np.float64).reshape(-1, 1) if np.ndim(tau) else float(tau)
    return (z_unit @ w_unit.T) / tau


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def cosine_softmax(z: np.ndarray, W: np.ndarray, tau: float | np.ndarray) -> np.ndarray:
    return softmax(cosine_logits(z, W, tau))


def entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row; 0·log 0 = 0."""
    p = np.asarray(p, dtype=np.float64)
    logs = np.log(np.where(p > 0, p, 1.0))
    return -(p * logs).sum(axis=-1)


def entropy_at_temperature(z: np.ndarray, W: np.ndarray, tau: float) -> np.ndarray:
    """H[p(·|x)] of the cosine softmax at temperature τ, one value per row of z."""
    return entropy(cosine_softmax(z, W, tau))
