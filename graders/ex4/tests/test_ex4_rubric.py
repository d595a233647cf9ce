"""Exercise 4 as the rubric states it, on sample submissions graded through the real sandbox.

ex4a.cosine_logits (6)   share of hidden cases (norms 1e-6…1e6) matching cos(w_c, z)/tau
ex4b.direction (6)       |cos(w, u1)|: full at >= 0.999, none at <= 0.9; eigen/SVD refused
ex4b.norm (3)            ||w|| within 0.01 of 1 (none 0.1 away), only along u1
ex4c.accuracy (10)       hidden test accuracy: full at >= 97 %, none at <= 80 %
ex4d.reconstruction (10) MSE under hidden rotations: full at <= 1.1 x reference, none at identity
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from graders.ex4 import hidden
from graders.ex4.tests.conftest import SAMPLES, sample_files

NOT_SUBMITTED = "Not submitted: upload"
BLOCKED = "eigen/SVD routines are not allowed: train by gradient descent."


def points(items: dict) -> dict[str, float]:
    return {k: v.score for k, v in items.items()}


def test_reference_solution_and_weights_earn_35_of_35(graded):
    items = graded("full-marks")
    assert points(items) == {"ex4a.cosine_logits": 6, "ex4b.direction": 6, "ex4b.norm": 3,
                             "ex4c.accuracy": 10, "ex4d.reconstruction": 10}
    assert not any(i.needs_review for i in items.values())


def test_weights_as_a_weights_only_pt_state_dict_are_accepted(ex4, tmp_path: Path):
    from safetensors.torch import load_file

    for name in ("cosine_cnn", "rot_autoencoder"):
        torch.save(load_file(str(SAMPLES / "full-marks" / f"{name}.safetensors")), tmp_path / f"{name}.pt")
    items = {i.id: i for i in ex4.grade({}, sample_files(tmp_path, ex4.rubric)).items}
    assert items["ex4c.accuracy"].score == 10 and items["ex4d.reconstruction"].score == 10


@pytest.mark.parametrize("sample", ["eigh-shortcut", "svd-imported", "aten-eigh", "private-svd", "numpy-gufunc",
                                    "scipy-lapack", "sklearn-pca", "pca-lowrank"])
def test_ex4b_eigen_or_svd_routines_earn_nothing_by_any_path(graded, sample):
    items = graded(sample)
    assert items["ex4b.direction"].score == 0 and items["ex4b.norm"].score == 0
    assert items["ex4b.direction"].feedback == BLOCKED


def test_ex4a_is_graded_on_its_own_when_ex4b_cheats(graded):
    assert graded("eigh-shortcut")["ex4a.cosine_logits"].score == 6
    assert "NotImplementedError" in graded("svd-imported")["ex4a.cosine_logits"].feedback


def test_nan_or_inf_outputs_score_zero_with_a_message(graded):
    items = graded("nan-outputs")
    assert items["ex4a.cosine_logits"].score == 0 and "NaN or Inf" in items["ex4a.cosine_logits"].feedback
    assert "1e-6 to 1e6" in items["ex4a.cosine_logits"].feedback
    assert items["ex4b.direction"].score == 0 and "NaN or Inf" in items["ex4b.direction"].feedback
    assert items["ex4c.accuracy"].score == 0 and "NaN or Inf" in items["ex4c.accuracy"].feedback


def test_weights_of_the_wrong_shape_name_the_tensor_and_the_expected_shape(graded):
    items = graded("wrong-shapes")
    assert items["ex4c.accuracy"].score == 0
    assert "'class_weights' has shape (10, 16), expected (10, 32)" in items["ex4c.accuracy"].feedback
    assert items["ex4d.reconstruction"].score == 0
    assert "'encoder.5.weight' has shape (8, 512), expected (64, 512)" in items["ex4d.reconstruction"].feedback


def test_a_pickle_that_runs_code_is_refused_not_run(graded):
    items = graded("malicious-pickle")
    assert items["ex4c.accuracy"].score == 0
    assert "weights_only=True" in items["ex4c.accuracy"].feedback
    assert "state dict" in items["ex4d.reconstruction"].feedback
    assert not Path("/tmp/ex4-pwned").exists()
    assert items["ex4a.cosine_logits"].feedback == f"{NOT_SUBMITTED} solution.py."


def test_a_solution_that_does_not_import_says_where(graded):
    items = graded("import-error")
    for item_id in ("ex4a.cosine_logits", "ex4b.direction", "ex4b.norm"):
        assert items[item_id].score == 0
        assert "could not be imported" in items[item_id].feedback
        assert "SyntaxError at line 7" in items[item_id].feedback


def test_untrained_models_score_nothing(graded):
    items = graded("untrained")
    assert items["ex4c.accuracy"].score == 0 and "Accuracy on the hidden test split" in items["ex4c.accuracy"].feedback
    assert items["ex4d.reconstruction"].score == 0


def test_partial_work_earns_partial_points(graded):
    items = graded("partial")
    a = items["ex4a.cosine_logits"]
    passed = int(re.match(r"(\d+) of 12", a.feedback).group(1))
    assert 0 < passed < 12 and a.score == round(6 * passed / 12, 2)
    assert items["ex4b.direction"].score == 6 and items["ex4b.norm"].score == 0
    assert "from 2.0000 to 2.0000" in items["ex4b.norm"].feedback
    accuracy = float(re.search(r"split: ([\d.]+)%", items["ex4c.accuracy"].feedback).group(1)) / 100
    assert 0.80 < accuracy < 0.97
    assert items["ex4c.accuracy"].score == pytest.approx(10 * (accuracy - 0.80) / 0.17, abs=0.06)


def test_feedback_never_reveals_hidden_inputs(graded, ex4):
    items = graded("leaky")
    assert all(i.score == 0 for i in items.values())
    assert "raised ValueError at line 6" in items["ex4a.cosine_logits"].feedback
    assert "raised SystemExit at line 10" in items["ex4b.direction"].feedback
    check = ex4.rubric.item("ex4b.direction").check
    X, _ = hidden.linear_ae_datasets(check["seed"], check["datasets"])[0]
    z = hidden.cosine_cases(ex4.rubric.item("ex4a.cosine_logits").check["seed"])[0].z
    text = " ".join(i.feedback for i in items.values())
    for value in (X[0, 0], X[0, 1], z[0, 0], z[0, 1]):
        assert f"{value:.4f}"[:-1] not in text
    assert "hidden X" not in text and "hidden z" not in text


def test_returning_a_score_instead_of_outputs_gains_nothing(graded):
    items = graded("forger")
    assert sum(i.score for i in items.values()) == 0
    assert "not a tensor or an array" in items["ex4a.cosine_logits"].feedback


def test_a_timeout_in_ex4b_keeps_the_points_of_ex4a(ex4, monkeypatch):
    monkeypatch.setitem(ex4.rubric.item("ex4b.direction").check, "timeout_s", 2)
    result = ex4.grade({}, sample_files(SAMPLES / "timeout", ex4.rubric))
    items = {i.id: i for i in result.items}
    assert items["ex4a.cosine_logits"].score == 6
    assert items["ex4b.direction"].score == 0 and "did not finish within 2 s" in items["ex4b.direction"].feedback
