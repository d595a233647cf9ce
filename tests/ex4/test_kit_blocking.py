"""The kit's local check refuses what the server's sandbox refuses (torch at the dispatcher,
numpy's gufuncs, scipy/sklearn at import), and leaves everything as it was afterwards.
The solutions here are our own test sources, run in this process through the kit's check."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sheet8kit import check

from .paths import REFERENCE

SHORTCUTS = {
    "ops.aten._linalg_eigh": "vals, vecs = torch.ops.aten._linalg_eigh(S)\n    return vecs[:, -1]",
    "_VariableFunctions.svd": "return torch._C._VariableFunctions.svd(S)[0][:, 0]",
    "pca_lowrank": "return torch.pca_lowrank(X, q=1, center=False)[2][:, 0]",
    "requires_grad eigh": "return torch.linalg.eigh(S.requires_grad_()).eigenvectors[:, -1].detach()",
    "numpy gufunc": "import numpy\n    return torch.tensor(numpy.linalg._umath_linalg.eigh_lo(S.numpy())[1][:, -1])",
    "numpy.linalg.svd caught": ("import numpy\n    try:\n        numpy.linalg.svd(S.numpy())\n"
                                "    except Exception:\n        pass\n    return torch.ones(S.shape[0])"),
    "sklearn PCA": "from sklearn.decomposition import PCA\n    return torch.tensor(PCA(1).fit(X.numpy()).components_[0])",
    "scipy lapack": ("from scipy.linalg import lapack\n"
                     "    return torch.tensor(lapack.dsyevd(S.numpy())[1][:, -1])"),
}


def _solution(folder: Path, body: str) -> Path:
    (folder / "solution.py").write_text(
        "import torch\n\n"
        "def train_linear_autoencoder(X, lr=None, steps=5000, seed=0):\n"
        "    X = torch.as_tensor(X, dtype=torch.float64)\n"
        "    S = X.T @ X / len(X)\n"
        f"    {body}\n")
    return folder


@pytest.mark.parametrize("body", list(SHORTCUTS.values()), ids=list(SHORTCUTS))
def test_the_local_check_refuses_eigen_and_svd_shortcuts(tmp_path: Path, body: str):
    sys.modules.pop("solution", None)
    ok, message = check.check_linear_autoencoder(_solution(tmp_path, body))
    assert not ok and "eigen/SVD routines are not allowed" in message, message


def test_the_local_check_passes_gradient_descent_and_restores_everything(tmp_path: Path):
    (tmp_path / "solution.py").write_bytes((REFERENCE / "solution.py").read_bytes())
    sys.modules.pop("solution", None)
    ok, message = check.check_linear_autoencoder(tmp_path)
    assert ok, message
    S = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    assert torch.allclose(torch.ops.aten._linalg_eigh(S)[0], torch.linalg.eigvalsh(S))
    assert np.allclose(np.linalg.svd(S.numpy())[1], torch.linalg.svdvals(S).numpy())
    assert importlib.import_module("sklearn.decomposition").PCA is not None


OPTIMIZER_SOLUTION = '''import torch

def train_linear_autoencoder(X, lr=None, steps=3000, seed=0):
    torch.manual_seed(seed)
    X = torch.as_tensor(X, dtype=torch.float64)
    w = torch.randn(X.shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr or 0.01)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((X - (X @ w)[:, None] * w[None, :]) ** 2).sum(dim=1).mean()
        loss.backward()
        opt.step()
    return w.detach()
'''


def test_a_torch_optimizer_solution_passes_the_local_check_in_a_fresh_process(tmp_path: Path):
    """torch's first optimizer step probes whether sklearn is installed; the check must not
    turn that probe into an ImportError in the student's training loop."""
    import io
    import subprocess
    import zipfile

    import graders

    zipfile.ZipFile(io.BytesIO(graders.grader("ex4").starter_kit())).extractall(tmp_path)
    kit = next(p for p in tmp_path.iterdir() if p.is_dir())
    (kit / "solution.py").write_text(OPTIMIZER_SOLUTION)
    run = subprocess.run([sys.executable, "-m", "sheet8kit.check", "--part", "ex4b"], cwd=kit,
                         capture_output=True, text=True, timeout=120, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert "PASS  ex4b" in run.stdout, run.stdout + run.stderr
