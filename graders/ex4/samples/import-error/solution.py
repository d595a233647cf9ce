"""A solution that does not import: a syntax error on line 7."""
import torch


def cosine_logits(z, W, tau):
    z = z / z.norm(dim=1, keepdim=True)
    return z @ (W / W.norm(dim=1, keepdim=True).T / tau
