"""`python bench/bench_ex4.py`: wall time per ex4 item through the warm sandbox (reference
files), against the same task run in this process on the same trusted files (the baseline:
what the sandbox adds is the ratio). Prints median and p95 in ms."""
from __future__ import annotations

import importlib
import statistics
import tempfile
import time
from pathlib import Path

import torch

from graders.engines.sandbox import encode_array, run_task, warm_up
from graders.ex4 import hidden
from graders.ex4.grader import REPO_ROOT, build

REFERENCE = REPO_ROOT / "reference" / "ex4"
RUNS = 15


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    torch.set_num_threads(1)
    rubric = build().rubric
    rot = rubric.item("ex4d.reconstruction").check
    images, _ = hidden.test_split()
    rotated, _ = hidden.rotated_test_digits(rot["seed"], rot["digits"])
    cases = hidden.cosine_cases(rubric.item("ex4a.cosine_logits").check["seed"])
    lin = rubric.item("ex4b.direction").check
    blocked = {"ex4b (3 GD trainings)": lin["blocked"]}  # as the grader runs it
    jobs = {
        "ex4a.cosine_logits": ("sheet8kit.tasks:cosine_logits", "solution.py", REFERENCE / "solution.py",
                               {"cases": [{"z": encode_array(c.z), "W": encode_array(c.W), "tau": c.tau} for c in cases]}),
        "ex4b (3 GD trainings)": ("sheet8kit.tasks:train_linear_autoencoder", "solution.py", REFERENCE / "solution.py",
                                  {"datasets": [encode_array(X) for X, _ in hidden.linear_ae_datasets(lin["seed"], lin["datasets"])]}),
        "ex4c.accuracy": ("sheet8kit.tasks:cosine_cnn", "cosine_cnn.safetensors",
                          REFERENCE / "weights" / "cosine_cnn.safetensors", {"images": encode_array(images)}),
        "ex4d.reconstruction": ("sheet8kit.tasks:rot_autoencoder", "rot_autoencoder.safetensors",
                                REFERENCE / "weights" / "rot_autoencoder.safetensors", {"images": encode_array(rotated)}),
    }
    warm_up()
    print(f"{'item':24} {'sandbox median':>15} {'p95':>8} {'in-process median':>18} {'ratio':>6}")
    for name, (task, filename, path, payload) in jobs.items():
        data = path.read_bytes()
        sandboxed, local = [], []
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / filename).write_bytes(data)
            module, function = task.split(":")
            fn = getattr(importlib.import_module(module), function)
            for _ in range(RUNS):
                result = run_task(task, payload, {filename: data}, timeout_s=30, blocked=blocked.get(name, ()))
                assert result.ok, result.error
                sandboxed.append(result.wall_ms)
                started = time.perf_counter()
                fn(payload, Path(tmp))
                local.append((time.perf_counter() - started) * 1000)
        med, base = statistics.median(sandboxed), statistics.median(local)
        print(f"{name:24} {med:13.1f}ms {percentile(sandboxed, 0.95):6.1f}ms {base:16.1f}ms {med / base:6.1f}")


if __name__ == "__main__":
    main()
