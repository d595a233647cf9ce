"""`python -m graders.ex4.samples.build`: write the binary sample submissions (weights) beside
the hand-written solution.py files. Deterministic; the outputs are committed."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch
import torch.nn.functional as F

from graders.ex4.kit_path import ensure_kit_importable

ensure_kit_importable()

from sheet8kit.data import load_splits  # noqa: E402
from sheet8kit.models import CosineCNN, RotAutoencoder, save_weights  # noqa: E402

SAMPLES = Path(__file__).resolve().parent


class RunsAShellCommand:
    """Unpickling this runs a command: what torch.load(weights_only=False) would do."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/ex4-pwned",))


def seeded(cls, **kwargs):
    torch.manual_seed(0)
    return cls(**kwargs)


def briefly_trained_cnn(batches: int) -> CosineCNN:
    """A CosineCNN after a few Adam steps: between 'untrained' and the reference."""
    model = seeded(CosineCNN)
    train, _ = load_splits()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    order = torch.arange(len(train.y)).split(64)
    for step in range(batches):
        idx = order[step % len(order)]
        z = F.normalize(model.features(train.x[idx]), dim=1)
        loss = F.cross_entropy(z @ F.normalize(model.class_weights, dim=1).T / model.tau, train.y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def main() -> None:
    torch.set_num_threads(1)
    nan_cnn = seeded(CosineCNN)
    with torch.no_grad():
        nan_cnn.class_weights.fill_(float("nan"))
    save_weights(nan_cnn, SAMPLES / "nan-outputs" / "cosine_cnn.safetensors")
    save_weights(seeded(CosineCNN, dim=16), SAMPLES / "wrong-shapes" / "cosine_cnn.safetensors")
    save_weights(seeded(RotAutoencoder, code=8), SAMPLES / "wrong-shapes" / "rot_autoencoder.safetensors")
    (SAMPLES / "malicious-pickle" / "cosine_cnn.pt").write_bytes(pickle.dumps({"phi.0.weight": RunsAShellCommand()}))
    torch.save({"epoch": 3, "note": "a training log, not a state dict"}, SAMPLES / "malicious-pickle" / "rot_autoencoder.pt")
    save_weights(seeded(CosineCNN), SAMPLES / "untrained" / "cosine_cnn.safetensors")
    save_weights(seeded(RotAutoencoder), SAMPLES / "untrained" / "rot_autoencoder.safetensors")
    save_weights(briefly_trained_cnn(batches=24), SAMPLES / "partial" / "cosine_cnn.safetensors")


if __name__ == "__main__":
    main()
