"""The two models of Exercise 4. Their parameter names and shapes are what the grader loads
your weights into: do not change them."""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

NUM_CLASSES = 10


class CosineCNN(nn.Module):
    """A convolutional feature extractor phi: x -> z in R^dim, followed by a cosine head:
    class c scores cos(w_c, z) / tau with unit-norm class weights w_c (Exercise 1)."""

    def __init__(self, dim: int = 32, tau: float = 0.1) -> None:
        super().__init__()
        self.tau = tau  # a fixed hyper-parameter, not part of the saved weights
        self.phi = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 16 x 4 x 4
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32 x 2 x 2
            nn.Flatten(), nn.Linear(128, dim),
        )
        self.class_weights = nn.Parameter(torch.randn(NUM_CLASSES, dim) / dim**0.5)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """z = phi(x) for images x of shape (N, 1, 8, 8): (N, dim)."""
        return self.phi(x)

    def cosines(self, x: torch.Tensor) -> torch.Tensor:
        """cos(w_c, phi(x)) for every class: (N, 10). The predicted class is the argmax."""
        z = F.normalize(self.features(x), dim=1)
        return z @ F.normalize(self.class_weights, dim=1).T


class RotAutoencoder(nn.Module):
    """Maps a rotated digit (N, 1, 8, 8) to the upright digit (Exercise 3a)."""

    def __init__(self, code: int = 64) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),          # 32 x 4 x 4
            nn.Flatten(), nn.Linear(512, code), nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.Linear(code, 512), nn.ReLU(), nn.Unflatten(1, (32, 4, 4)),
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),  # 16 x 8 x 8
            nn.Conv2d(16, 1, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class WeightsError(ValueError):
    """The weight file does not fit the model. `problem` is one of missing | shape | dtype |
    unexpected | format; `tensor` names the offending tensor."""

    def __init__(self, problem: str, tensor: str = "", got: tuple = (), expected: tuple = ()) -> None:
        self.problem, self.tensor, self.got, self.expected = problem, tensor, tuple(got), tuple(expected)
        super().__init__(describe_weights_problem(problem, tensor, self.got, self.expected))


def describe_weights_problem(problem: str, tensor: str, got: tuple, expected: tuple) -> str:
    if problem == "missing":
        return f"tensor {tensor!r} is missing (expected shape {expected})"
    if problem == "shape":
        return f"tensor {tensor!r} has shape {got}, expected {expected}"
    if problem == "dtype":
        return f"tensor {tensor!r} is not a float tensor"
    if problem == "unexpected":
        return f"unexpected tensor {tensor!r}: save the kit model's own state dict"
    return "the file must hold a state dict (parameter name -> tensor)"


def save_weights(model: nn.Module, path: str | Path) -> None:
    """Save the model's state dict as safetensors (the format the grader prefers)."""
    from safetensors.torch import save_file

    save_file({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}, str(path))


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read safetensors, or a .pt state dict with torch.load(weights_only=True) (no pickled code)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise WeightsError("format")
    return state


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a weight file into `model`, naming the first tensor that does not fit."""
    state = read_state_dict(path)
    expected = model.state_dict()
    for name, tensor in expected.items():
        if name not in state:
            raise WeightsError("missing", name, expected=tuple(tensor.shape))
        if tuple(state[name].shape) != tuple(tensor.shape):
            raise WeightsError("shape", name, tuple(state[name].shape), tuple(tensor.shape))
        if not state[name].is_floating_point():
            raise WeightsError("dtype", name)
    extra = sorted(set(state) - set(expected))
    if extra:
        raise WeightsError("unexpected", extra[0])
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    return model.eval()
