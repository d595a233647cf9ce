"""A correct cosine_logits, but task (b) takes the top eigenvector from torch.linalg.eigh."""
import torch


def cosine_logits(z, W, tau):
    z = z / z.norm(dim=1, keepdim=True)
    W = W / W.norm(dim=1, keepdim=True)
    return z @ W.T / tau


def train_linear_autoencoder(X, lr=None, steps=5000, seed=0):
    S = X.T @ X / len(X)
    return torch.linalg.eigh(S).eigenvectors[:, -1]
