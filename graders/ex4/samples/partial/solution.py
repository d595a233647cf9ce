"""Typical half-right work: cosine_logits assumes the class weights already have unit norm,
and the linear autoencoder finds the right direction but returns 2 w."""
import torch


def cosine_logits(z, W, tau):
    return (z / z.norm(dim=1, keepdim=True)) @ W.T / tau


def train_linear_autoencoder(X, lr=None, steps=5000, seed=0):
    S = X.T @ X / len(X)
    lr = 0.1 / float(torch.trace(S))
    w = torch.full((X.shape[1],), 0.1, dtype=X.dtype)
    for _ in range(steps):
        Sw = S @ w
        w = w - lr * 2 * (-2 * Sw + (w @ Sw) * w + (w @ w) * Sw)
    return 2 * w
