"""The reference solution and models, and the numbers the rubric's thresholds rest on."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import graders
from graders.ex4 import hidden
from reference.ex4.solution import cosine_logits, train_linear_autoencoder
from sheet8kit import check, tasks
from sheet8kit.models import CosineCNN, RotAutoencoder, load_weights

from .paths import REFERENCE

RUBRIC = graders.rubric("ex4")
METRICS = json.loads((REFERENCE / "metrics.json").read_text())


def test_hidden_cosine_cases_cover_tiny_and_huge_norms():
    cases = hidden.cosine_cases(RUBRIC.item("ex4a.cosine_logits").check["seed"])
    norms = np.concatenate([np.linalg.norm(a, axis=1) for c in cases for a in (c.z, c.W)])
    assert norms.min() < 1e-5 and norms.max() > 1e5
    assert hidden.cosine_cases(1)[0].z.tolist() == hidden.cosine_cases(1)[0].z.tolist()
    assert not np.array_equal(hidden.cosine_cases(1)[0].z, hidden.cosine_cases(2)[0].z)


def test_reference_cosine_logits_is_the_cosine_over_tau_at_every_scale():
    for case in hidden.cosine_cases(RUBRIC.item("ex4a.cosine_logits").check["seed"]):
        z, W = torch.tensor(case.z), torch.tensor(case.W)
        got = cosine_logits(z, W, case.tau)
        assert torch.isfinite(got).all()
        unit = cosine_logits(z / z.norm(dim=1, keepdim=True), W / W.norm(dim=1, keepdim=True), case.tau)
        assert torch.allclose(got, unit, rtol=1e-12, atol=1e-12)
        assert got.abs().max() <= 1 / case.tau + 1e-12
    z = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
    W = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-6.0, -8.0]], dtype=torch.float64)
    assert torch.allclose(cosine_logits(z, W, 0.5), torch.tensor([[1.2, 1.6, -2.0]], dtype=torch.float64))


def test_reference_autoencoder_finds_the_top_eigenvector_with_unit_norm():
    check_ = RUBRIC.item("ex4b.direction").check
    for X, u1 in hidden.linear_ae_datasets(check_["seed"], check_["datasets"]):
        assert np.allclose(X.mean(axis=0), 0, atol=1e-12)
        w = train_linear_autoencoder(torch.tensor(X)).numpy()
        top = np.linalg.eigh(X.T @ X / len(X))[1][:, -1]
        assert abs(w @ top) / np.linalg.norm(w) > 1 - 1e-9
        assert abs(abs(top @ u1) - 1) < 1e-9
        assert abs(np.linalg.norm(w) - 1) < 1e-9


def test_metrics_json_matches_the_committed_weights_on_the_hidden_sets():
    x, y = hidden.test_split()
    cnn = load_weights(CosineCNN(), REFERENCE / "weights" / "cosine_cnn.safetensors")
    rot = RUBRIC.item("ex4d.reconstruction").check
    rotated, upright = hidden.rotated_test_digits(rot["seed"], rot["digits"])
    ae = load_weights(RotAutoencoder(), REFERENCE / "weights" / "rot_autoencoder.safetensors")
    with torch.no_grad():
        accuracy = float((cnn.cosines(torch.tensor(x)).argmax(1).numpy() == y).mean())
        mse = float(np.mean((ae(torch.tensor(rotated)).numpy() - upright) ** 2))
    assert accuracy == pytest.approx(METRICS["cosine_cnn"]["test_accuracy"], abs=1e-6)
    assert (METRICS["rot_autoencoder"]["seed"], METRICS["rot_autoencoder"]["digits"]) == (rot["seed"], rot["digits"])
    assert mse == pytest.approx(METRICS["rot_autoencoder"]["test_mse"], rel=1e-5)
    assert METRICS["rot_autoencoder"]["test_identity_mse"] == pytest.approx(float(np.mean((rotated - upright) ** 2)), rel=1e-6)


def test_the_reference_models_clear_the_full_marks_thresholds():
    assert METRICS["cosine_cnn"]["test_accuracy"] >= RUBRIC.item("ex4c.accuracy").check["full_at"]
    rot = METRICS["rot_autoencoder"]
    assert rot["test_mse"] < rot["test_identity_mse"] / 5


def test_the_kit_blocks_what_the_rubric_blocks_and_every_entry_exists_here():
    blocked = RUBRIC.item("ex4b.direction").check["blocked"]
    assert list(tasks.BLOCKED_ROUTINES) == blocked
    # a torch or numpy upgrade that renames one of these must fail here, not unblock silently
    all_ops = set(torch._C._dispatch_get_all_op_names())
    operators = [n for n in blocked if n.startswith("aten::")]
    assert {"aten::_linalg_eigh", "aten::_linalg_svd", "aten::linalg_eig"} <= set(operators) <= all_ops
    from numpy.linalg import _umath_linalg

    gufuncs = [n for n in blocked if n.startswith("numpy.")]
    assert all(isinstance(getattr(_umath_linalg, n.rsplit(".", 1)[1]), np.ufunc) for n in gufuncs)
    assert {n for n in dir(_umath_linalg) if n.startswith(("eig", "svd"))} == {n.rsplit(".", 1)[1] for n in gufuncs}
    assert {"module:scipy", "module:sklearn"} <= set(blocked)


def test_the_kit_check_promises_the_rubrics_thresholds():
    a, b, n, c = (RUBRIC.item(i).check for i in ("ex4a.cosine_logits", "ex4b.direction", "ex4b.norm", "ex4c.accuracy"))
    assert (check.RTOL, check.ATOL_TIMES_INV_TAU) == (a["rtol"], a["atol_times_inv_tau"])
    assert (check.MIN_ABS_COS, check.MAX_NORM_ERROR, check.MIN_ACCURACY) == (b["full_at"], n["full_at"], c["full_at"])
