"""Half precision in cosine_logits (tiny norms underflow to 0/0, huge ones overflow) and a
gradient step far too large for the linear autoencoder (it diverges)."""
import torch


def cosine_logits(z, W, tau):
    z, W = z.half(), W.half()
    return (z @ W.T) / (z.norm(dim=1, keepdim=True) * W.norm(dim=1)) / tau


def train_linear_autoencoder(X, lr=10.0, steps=200, seed=0):
    S = X.T @ X / len(X)
    w = torch.ones(X.shape[1], dtype=X.dtype)
    for _ in range(steps):
        Sw = S @ w
        w = w - lr * 2 * (-2 * Sw + (w @ Sw) * w + (w @ w) * Sw)
    return w
