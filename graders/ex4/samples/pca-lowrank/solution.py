"""ex4b through torch.pca_lowrank, a Python composite over the SVD operator."""
import torch


def train_linear_autoencoder(X, lr=None, steps=5000, seed=0):
    U, s, V = torch.pca_lowrank(X, q=1, center=False)
    return V[:, 0]
