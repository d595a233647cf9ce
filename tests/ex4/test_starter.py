"""The starter kit zip: builds, is deterministic, holds the kit and nothing server-side, and its
local check reports stubs as not implemented and passes with the reference solution."""
from __future__ import annotations

import ast
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import graders
from graders.ex4.starter import ZIP_ROOT, build_starter_zip

from .paths import REFERENCE, REPO

EXPECTED = {"README.md", "solution.py", "sheet8kit/__init__.py", "sheet8kit/data.py", "sheet8kit/models.py",
            "sheet8kit/tasks.py", "sheet8kit/check.py", "sheet8kit/wire.py", "sheet8kit/synthetic.py"}


def _texts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n.removeprefix(f"{ZIP_ROOT}/"): archive.read(n).decode() for n in archive.namelist()}


def test_the_grader_serves_the_kit_zip():
    data = graders.grader("ex4").starter_kit()
    assert set(_texts(data)) == EXPECTED
    assert graders.grader("ex4").starter_kit() is data  # built once per process


def test_same_kit_same_bytes_whatever_the_file_times(kit_root: Path, tmp_path: Path):
    copy = tmp_path / "kit"
    shutil.copytree(kit_root, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    assert build_starter_zip(copy) == build_starter_zip(kit_root)


def test_trained_weights_and_caches_stay_out(kit_root: Path, tmp_path: Path):
    copy = tmp_path / "kit"
    shutil.copytree(kit_root, copy)
    (copy / "cosine_cnn.safetensors").write_bytes(b"weights")
    (copy / "sheet8kit" / "__pycache__").mkdir(exist_ok=True)
    (copy / "sheet8kit" / "__pycache__" / "tasks.cpython-311.pyc").write_bytes(b"cache")
    assert set(_texts(build_starter_zip(copy))) == EXPECTED


def _without_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            node.body = body[1:] or [ast.Pass()]
    return tree


def test_no_reference_code_and_no_hidden_seed_in_the_zip():
    texts = _texts(build_starter_zip())
    everything = "\n".join(texts.values())
    code = "\n".join(ast.unparse(_without_docstrings(ast.parse(t))) for n, t in texts.items() if n.endswith(".py"))
    rubric = graders.rubric("ex4")
    for item in rubric.items:
        if "seed" in item.check:
            assert str(item.check["seed"]) not in everything
    reference = ast.parse((REFERENCE / "solution.py").read_text())
    for fn in (n for n in reference.body if isinstance(n, ast.FunctionDef)):
        body = fn.body[1:] if isinstance(fn.body[0], ast.Expr) else fn.body  # without the docstring
        for statement in body:
            text = ast.unparse(statement)
            if len(text) >= 25:  # `return w` proves nothing
                assert text not in code, f"reference code of {fn.name} in the kit: {text}"
    stubs = ast.parse(texts["solution.py"])
    for fn in (n for n in stubs.body if isinstance(n, ast.FunctionDef)):
        assert isinstance(fn.body[-1], ast.Raise) and "NotImplementedError" in ast.unparse(fn.body[-1])
    assert "hidden" not in " ".join(texts) and "metrics" not in " ".join(texts)


def _unzipped(tmp_path: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(build_starter_zip())) as archive:
        archive.extractall(tmp_path)
    return tmp_path / ZIP_ROOT


def _check(folder: Path, *parts: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1", "HOME": str(folder)}
    return subprocess.run([sys.executable, "-m", "sheet8kit.check", *parts], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_on_the_stubs_reports_not_implemented(tmp_path: Path):
    run = _check(_unzipped(tmp_path))
    assert run.returncode == 1, run.stderr
    assert "TODO  ex4a cosine_logits: NOT IMPLEMENTED" in run.stdout
    assert "TODO  ex4b train_linear_autoencoder: NOT IMPLEMENTED" in run.stdout
    assert "SKIP  ex4c" in run.stdout and "SKIP  ex4d" in run.stdout


def test_check_passes_with_the_reference_solution_and_weights(tmp_path: Path):
    kit = _unzipped(tmp_path)
    shutil.copy(REFERENCE / "solution.py", kit / "solution.py")
    for weights in (REFERENCE / "weights").iterdir():
        shutil.copy(weights, kit / weights.name)
    run = _check(kit)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("PASS") == 4


def test_check_refuses_eigen_routines_like_the_server(tmp_path: Path):
    kit = _unzipped(tmp_path)
    shutil.copy(REPO / "graders" / "ex4" / "samples" / "eigh-shortcut" / "solution.py", kit / "solution.py")
    run = _check(kit, "--part", "ex4b")
    assert run.returncode == 1
    assert "ex4a" not in run.stdout
    line = next(line for line in run.stdout.splitlines() if "ex4b" in line)
    assert line.startswith("FAIL") and "not allowed" in line
