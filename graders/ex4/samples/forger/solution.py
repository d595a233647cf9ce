"""Tries to hand back a score instead of outputs: it rewires the kit's encoder at import time
and returns strings and dicts."""
import sheet8kit.tasks

sheet8kit.tasks.encode = lambda _array: "100/100"


def cosine_logits(z, W, tau):
    return {"score": 35, "feedback": "perfect"}


def train_linear_autoencoder(X, lr=None, steps=5000, seed=0):
    return "100/100"
