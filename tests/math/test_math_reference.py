"""The ground truth in reference/: cosine softmax, entropy limits, covariance and top eigenvector."""
from __future__ import annotations

import numpy as np

from reference.cosine_softmax import cosine_logits, cosine_softmax, entropy, entropy_at_temperature
from reference.pca import covariance, reconstruction_error, top_eigenvector


def test_cosine_logits_ignore_norms_and_divide_by_tau():
    rng = np.random.default_rng(0)
    z, W = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    expected = (z / np.linalg.norm(z, axis=1, keepdims=True)) @ (W / np.linalg.norm(W, axis=1, keepdims=True)).T / 0.5
    assert np.allclose(cosine_logits(z * 7.0, W * 0.1, 0.5), expected)
    assert np.allclose(cosine_softmax(z, W, 1.0).sum(axis=1), 1.0)


def test_entropy_limits_are_zero_and_log_c():
    rng = np.random.default_rng(1)
    for C in (2, 3, 10):
        z, W = rng.standard_normal((6, 4)), rng.standard_normal((C, 4))
        assert np.allclose(entropy_at_temperature(z, W, 1e-9), 0.0, atol=1e-9)
        assert np.allclose(entropy_at_temperature(z, W, 1e9), np.log(C), atol=1e-9)
        middle = entropy_at_temperature(z, W, 1.0)
        assert np.all((middle > 0) & (middle < np.log(C)))
    assert entropy(np.array([1.0, 0.0, 0.0])) == 0.0


def test_top_eigenvector_maximises_u_s_u_and_minimises_the_ae_loss():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 4)) * np.array([3.0, 1.0, 0.5, 0.2])
    X -= X.mean(axis=0)
    S, u = covariance(X), top_eigenvector(X)
    assert np.allclose(S, X.T @ X / 50)
    assert np.isclose(np.linalg.norm(u), 1.0)
    for _ in range(200):
        v = rng.standard_normal(4)
        v /= np.linalg.norm(v)
        assert u @ S @ u >= v @ S @ v - 1e-12
        assert reconstruction_error(X, u) <= reconstruction_error(X, v) + 1e-12
