"""The reference solution.py of Exercise 4: same functions and signatures as the kit's stubs."""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from sheet8kit.data import load_splits, random_angles, rotate
from sheet8kit.models import CosineCNN, RotAutoencoder, save_weights


def cosine_logits(z: torch.Tensor, W: torch.Tensor, tau: float) -> torch.Tensor:
    """cos(w_c, z_i) / tau for a batch z (B, d) and class weights W (C, d): (B, C).

    Both sides are normalised first (scale-free, so norms from 1e-6 to 1e6 are safe); the
    small floor only matters for an exactly zero vector."""
    z_unit = z / torch.linalg.vector_norm(z, dim=1, keepdim=True).clamp_min(1e-30)
    w_unit = W / torch.linalg.vector_norm(W, dim=1, keepdim=True).clamp_min(1e-30)
    return (z_unit @ w_unit.T) / tau


def train_linear_autoencoder(X: torch.Tensor, lr: float | None = None, steps: int = 5000, seed: int = 0) -> torch.Tensor:
    """Tied single-unit linear autoencoder xhat = w w^T x on centred data X (N, d), trained by
    full-batch gradient descent on J(w) = 1/N sum ||x_i - w w^T x_i||^2; returns w (d,).

    grad J = 2 (-2 S w + (w^T S w) w + (w^T w) S w) with S = X^T X / N. The step size is set
    from trace(S) (an upper bound of the top eigenvalue, no eigen-routine needed)."""
    X = torch.as_tensor(X, dtype=torch.float64)
    n, d = X.shape
    S = X.T @ X / n
    if lr is None:
        lr = 0.1 / float(torch.trace(S))
    w = torch.randn(d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 0.1
    for _ in range(steps):
        Sw = S @ w
        grad = 2 * (-2 * Sw + (w @ Sw) * w + (w @ w) * Sw)
        w = w - lr * grad
    return w


def train_cosine_cnn(out_path: str | Path = "cosine_cnn.safetensors", epochs: int = 15, seed: int = 0) -> CosineCNN:
    """Cross-entropy on cosine_logits(phi(x), W, tau) over the training split; saves the weights."""
    torch.manual_seed(seed)
    train, _ = load_splits()
    model = CosineCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(train.y), generator=g).split(64):
            logits = cosine_logits(model.features(train.x[idx]), model.class_weights, model.tau)
            loss = F.cross_entropy(logits, train.y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    save_weights(model, out_path)
    return model.eval()


def train_rot_autoencoder(out_path: str | Path = "rot_autoencoder.safetensors", epochs: int = 60, seed: int = 0) -> RotAutoencoder:
    """Exercise 3a: input r(x_i), a random rotation of x_i; target the upright x_i; MSE loss."""
    torch.manual_seed(seed)
    train, _ = load_splits()
    model = RotAutoencoder()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(train.y), generator=g).split(64):
            x = train.x[idx]
            loss = F.mse_loss(model(rotate(x, random_angles(len(idx), g))), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
    save_weights(model, out_path)
    return model.eval()
