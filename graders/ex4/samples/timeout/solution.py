"""A correct cosine_logits; the linear autoencoder never stops training."""


def cosine_logits(z, W, tau):
    z = z / z.norm(dim=1, keepdim=True)
    W = W / W.norm(dim=1, keepdim=True)
    return z @ W.T / tau


def train_linear_autoencoder(X, lr=None, steps=5000, seed=0):
    while True:
        pass
