"""Task (b) by an SVD imported under another name at import time (still refused)."""
from numpy.linalg import svd as top_directions

import torch


def cosine_logits(z, W, tau):
    raise NotImplementedError("cosine_logits")


def train_linear_autoencoder(X, lr=None, steps=5000, seed=0):
    _, _, vt = top_directions(X.numpy(), full_matrices=False)
    return torch.from_numpy(vt[0].copy())
