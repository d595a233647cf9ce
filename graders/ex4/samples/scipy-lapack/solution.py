"""ex4b through scipy's LAPACK wrappers (dsyevd, or whatever get_lapack_funcs hands out)."""
import torch
from scipy.linalg import get_lapack_funcs


def train_linear_autoencoder(X, lr=None, steps=5000, seed=0):
    S = (X.T @ X / len(X)).numpy()
    (syevd,) = get_lapack_funcs(("syevd",), (S,))
    vals, vecs, info = syevd(S)
    return torch.from_numpy(vecs[:, -1])
