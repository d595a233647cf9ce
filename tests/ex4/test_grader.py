"""The grader's trusted side with a stand-in for the sandbox: failures fail closed, forged or
malformed outputs earn nothing, thresholds are linear, items are independent.

The stand-in runs the kit's task functions in this process, so it is only ever given the
reference solution and reference weights (trusted code). Hostile submissions go through the
real sandbox in graders/ex4/tests/."""
from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import graders.engines.sandbox as sandbox
from graders.engines.sandbox import SandboxUnavailable, TaskResult
from graders.engines.sandbox.arrays import decode_tree, encode_tree
from graders.ex4 import hidden
from graders.ex4.grader import Ex4Grader, FOLDER

from .paths import REFERENCE

ITEMS = ["ex4a.cosine_logits", "ex4b.direction", "ex4b.norm", "ex4c.accuracy", "ex4d.reconstruction"]


def reference_files() -> dict[str, Path]:
    return {"solution": REFERENCE / "solution.py",
            "cosine_cnn": REFERENCE / "weights" / "cosine_cnn.safetensors",
            "rot_autoencoder": REFERENCE / "weights" / "rot_autoencoder.safetensors"}


def in_process(tmp_path: Path, override: Callable[[str, Any], Any] | None = None):
    """A run_task that runs the kit task on the (reference) files here, or returns what
    `override(task, payload)` gives when that is not None."""
    calls: list[str] = []

    def run_task(task: str, payload: Any = None, files: dict[str, bytes] | None = None,
                 timeout_s: float = 10.0, blocked: Any = ()) -> TaskResult:
        calls.append(task)
        if override is not None and (forced := override(task, payload)) is not None:
            return forced
        workdir = tmp_path / f"job{len(calls)}"
        workdir.mkdir()
        for name, data in (files or {}).items():
            assert data == next(p.read_bytes() for p in reference_files().values() if p.name == name or
                                name.startswith(p.stem)), "only trusted files run in-process"
            (workdir / name).write_bytes(data)
        module, function = task.split(":")
        value = getattr(importlib.import_module(module), function)(decode_tree(encode_tree(payload)), workdir)
        return TaskResult(True, decode_tree(encode_tree(value)), "ok", None, 1.0)

    run_task.calls = calls  # type: ignore[attr-defined]
    return run_task


def by_id(result) -> dict:
    return {i.id: i for i in result.items}


@pytest.fixture
def grader() -> Ex4Grader:
    return Ex4Grader(FOLDER)  # a private instance: tests may change its rubric data


def test_reference_files_earn_full_marks(grader, tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "run_task", in_process(tmp_path))
    result = grader.grade({}, reference_files())
    assert result.score == 35 and not any(i.needs_review for i in result.items)


def test_no_sandbox_means_zero_and_review_never_unsandboxed_code(grader, monkeypatch):
    def unavailable(*_a, **_k):
        raise SandboxUnavailable("bwrap missing")

    monkeypatch.setattr(sandbox, "run_task", unavailable)
    result = grader.grade({}, reference_files())
    for item in result.items:
        assert item.score == 0 and item.needs_review
        assert "sandbox" in item.feedback and "not available" in item.feedback


def test_missing_uploads_are_named_and_nothing_runs(grader, tmp_path, monkeypatch):
    run = in_process(tmp_path)
    monkeypatch.setattr(sandbox, "run_task", run)
    items = by_id(grader.grade({}, {}))
    assert items["ex4a.cosine_logits"].feedback == "Not submitted: upload solution.py."
    assert items["ex4b.norm"].feedback == "Not submitted: upload solution.py."
    assert items["ex4c.accuracy"].feedback == "Not submitted: upload cosine_cnn.safetensors."
    assert run.calls == []


@pytest.mark.parametrize("forged", ["100/100", {"score": 35}, {"status": "ok", "outputs": "100/100"},
                                    {"status": "ok", "outputs": [{"value": "35"}] * 12, "cosines": [1.0]},
                                    {"status": "weights_error", "problem": "shape", "tensor": "x", "got": ["1e9"], "expected": []}])
def test_a_forged_answer_earns_nothing_and_is_flagged(grader, tmp_path, monkeypatch, forged):
    monkeypatch.setattr(sandbox, "run_task", in_process(tmp_path, lambda task, payload: TaskResult(True, forged, "ok", None, 1.0)))
    result = grader.grade({}, reference_files())
    assert result.score == 0
    assert all(i.needs_review for i in result.items)
    assert all("35" not in i.feedback and "100/100" not in i.feedback for i in result.items)


def test_a_timeout_costs_only_its_own_item(grader, tmp_path, monkeypatch):
    def timeout_ex4b(task, payload):
        if task.endswith(":train_linear_autoencoder"):
            return TaskResult(False, None, "timeout", "The code did not finish within 60 s", 60000.0)
        return None

    monkeypatch.setattr(sandbox, "run_task", in_process(tmp_path, timeout_ex4b))
    items = by_id(grader.grade({}, reference_files()))
    assert items["ex4b.direction"].score == items["ex4b.norm"].score == 0
    assert "did not finish within 60 s" in items["ex4b.direction"].feedback
    assert items["ex4a.cosine_logits"].score == 6 and items["ex4c.accuracy"].score == 10
    assert items["ex4d.reconstruction"].score == 10


def test_a_blocked_call_gets_the_gradient_descent_message(grader, tmp_path, monkeypatch):
    def refused(task, payload):
        if task.endswith(":train_linear_autoencoder"):
            return TaskResult(False, None, "refused", "The code called torch.linalg.eigh", 5.0)
        return None

    monkeypatch.setattr(sandbox, "run_task", in_process(tmp_path, refused))
    items = by_id(grader.grade({}, reference_files()))
    for item_id in ("ex4b.direction", "ex4b.norm"):
        assert items[item_id].score == 0
        assert items[item_id].feedback == "eigen/SVD routines are not allowed: train by gradient descent."
    assert items["ex4a.cosine_logits"].score == 6


def test_accuracy_points_are_linear_between_80_and_97_percent(grader, tmp_path, monkeypatch):
    _, labels = hidden.test_split()
    n = len(labels)
    for correct, expected in ((n, 10.0), (int(0.8 * n), 0.0), (int(0.885 * n), None)):
        cosines = np.eye(10)[labels].astype(np.float64)
        cosines[correct:] = np.eye(10)[(labels[correct:] + 1) % 10]

        def forced(task, payload, cosines=cosines):
            return TaskResult(True, {"status": "ok", "cosines": cosines}, "ok", None, 1.0) if task.endswith(":cosine_cnn") else None

        monkeypatch.setattr(sandbox, "run_task", in_process(tmp_path / str(correct), forced))
        item = by_id(grader.grade({}, {"cosine_cnn": reference_files()["cosine_cnn"]}))["ex4c.accuracy"]
        want = expected if expected is not None else round(10 * (correct / n - 0.8) / 0.17, 2)
        assert item.score == pytest.approx(want, abs=0.01)
        assert 0 < item.score < 10 or expected is not None


def test_reconstruction_points_run_from_the_rotated_input_to_the_reference(grader, tmp_path, monkeypatch):
    check = grader.rubric.item("ex4d.reconstruction").check
    rotated, upright = hidden.rotated_test_digits(check["seed"], check["digits"])
    identity = float(np.mean((rotated - upright) ** 2))
    for blend, expected in ((0.0, 10.0), (1.0, 0.0), (0.5, None)):
        out = upright + blend * (rotated - upright)  # MSE = blend^2 * identity

        def forced(task, payload, out=out):
            return TaskResult(True, {"status": "ok", "reconstructions": out}, "ok", None, 1.0) if task.endswith(":rot_autoencoder") else None

        monkeypatch.setattr(sandbox, "run_task", in_process(tmp_path / str(blend), forced))
        item = by_id(grader.grade({}, {"rot_autoencoder": reference_files()["rot_autoencoder"]}))["ex4d.reconstruction"]
        if expected is None:
            full_at = 1.1 * grader._reference_mse(check)
            expected = round(10 * (identity - 0.25 * identity) / (identity - full_at), 2)
        assert item.score == pytest.approx(expected, abs=0.01)
        assert str(round(float(upright.flat[37]), 4)) not in item.feedback


def test_stale_reference_metrics_send_ex4d_to_review(grader, tmp_path, monkeypatch):
    run = in_process(tmp_path)
    monkeypatch.setattr(sandbox, "run_task", run)
    grader.rubric.item("ex4d.reconstruction").check["seed"] += 1
    item = by_id(grader.grade({}, {"rot_autoencoder": reference_files()["rot_autoencoder"]}))["ex4d.reconstruction"]
    assert item.score == 0 and item.needs_review and "out of date" in item.feedback
    assert run.calls == []


def test_weights_with_another_extension_are_refused_before_running(grader, tmp_path, monkeypatch):
    run = in_process(tmp_path)
    monkeypatch.setattr(sandbox, "run_task", run)
    odd = tmp_path / "cosine_cnn.bin"
    shutil.copy(reference_files()["cosine_cnn"], odd)
    item = by_id(grader.grade({}, {"cosine_cnn": odd}))["ex4c.accuracy"]
    assert item.score == 0 and "cosine_cnn.safetensors or cosine_cnn.pt" in item.feedback
    assert run.calls == []


def test_a_code_task_cannot_put_its_own_text_into_feedback(grader, tmp_path, monkeypatch):
    smuggled = {"status": "weights_error", "problem": "unexpected", "tensor": "z=[0.1234, 5.678]", "got": [], "expected": []}
    monkeypatch.setattr(sandbox, "run_task", in_process(
        tmp_path, lambda task, payload: TaskResult(True, smuggled, "ok", None, 1.0) if "linear" in task or "logits" in task else None))
    items = by_id(grader.grade({}, reference_files()))
    for item_id in ("ex4a.cosine_logits", "ex4b.direction", "ex4b.norm"):
        assert items[item_id].score == 0 and items[item_id].needs_review
        assert "0.1234" not in items[item_id].feedback
    assert items["ex4c.accuracy"].score == 10
