"""Tries to smuggle the hidden inputs out through error messages and sys.exit."""
import sys


def cosine_logits(z, W, tau):
    raise ValueError("hidden z: " + repr(z.tolist()))


def train_linear_autoencoder(X, lr=None, steps=5000, seed=0):
    sys.exit("hidden X: " + repr(X.tolist()[:5]))
