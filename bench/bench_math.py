"""Math engine speed: one whole ex1 answer (tau, derivation, both entropy limits), the same in
later notations (the sheet's one-string derivation, τ by components, entropy in bits) and one
whole ex2 answer (derivation, objective, alpha), graded by the cached engine vs a naive path that
parses the targets and samples the instantiations again for every answer. Same process, same
answers. Every answer is distinct (a harmless `+ k - k` per line), so value caches do not hide
the work. Goal: median <= 10 ms per answer on one core.

    .venv/bin/python bench/bench_math.py [--runs 200] [--naive-runs 20]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graders.engines.math import checker as math_checker  # noqa: E402
from graders.engines.math import lines as math_lines  # noqa: E402
from graders.engines.math import space as math_space  # noqa: E402
from graders.rubric import load_rubric  # noqa: E402

GRADERS = ROOT / "graders"

EX1 = {
    "tau": r"\frac{1}{\|z\|} + {k} - {k}",
    "derivation": [
        ("", r"p(c|x) = \frac{\exp(w_c^\top z + b_c)}{\sum_{c'} \exp(w_{c'}^\top z + b_{c'})} + {k} - {k}"),
        ("=", r"\frac{\exp(w_c^\top z)}{\sum_{c'} \exp(w_{c'}^\top z)} + {k} - {k}"),
        ("=", r"\frac{\exp(\|w_c\| \|z\| \cos(w_c, z))}{\sum_{c'} \exp(\|w_{c'}\| \|z\| \cos(w_{c'}, z))} + {k} - {k}"),
        ("=", r"\frac{\exp(\cos(w_c, z) / \tau)}{\sum_{c'} \exp(\cos(w_{c'}, z)/\tau)} + {k} - {k}"),
    ],
    "entropy_tau_to_zero": "0 + {k} - {k}",
    "entropy_tau_to_infinity": r"\log C + {k} - {k}",
}
# The same ex1 answer in the notations the engine learned later: the sheet's own derivation as
# one string (p ∝ numerator, then = the softmax), τ by components, the entropy in bits.
EX1_NOTATIONS = {
    "tau": r"\frac{1}{\sqrt{\sum_{j=1}^{d} z_j^2}} + {k} - {k}",
    # A factor (k+1000)/(k+1000) = 1 keeps the lines distinct: `+ k - k` would erase softmax
    # values near 1e-17 (‖z‖ up to 20), which matters to \propto.
    "derivation": r"""p(c|\boldsymbol{x}) \propto \frac{{k}+1000}{{k}+1000} \exp(\boldsymbol{w}_{c}^{\top}\boldsymbol{z} + b_{c}) \\
= \frac{{k}+1000}{{k}+1000} \frac{\exp(\boldsymbol{w}_{c}^{\top}\boldsymbol{z})\exp(b_{c})}{\sum_{c'}\exp(\boldsymbol{w}_{c'}^{\top}\boldsymbol{z})\exp(b_{c'})} \\
\propto \frac{{k}+1000}{{k}+1000} \exp(\|\boldsymbol{w}_{c}\|\|\boldsymbol{z}\|\cos(\boldsymbol{w}_{c},\boldsymbol{z})) \\
\Rightarrow \tau = \frac{{k}+1000}{{k}+1000} \frac{1}{\|\boldsymbol{z}\|}""",
    "entropy_tau_to_zero": "0 + {k} - {k}",
    "entropy_tau_to_infinity": r"\log_2 C + {k} - {k}",
}
EX2 = {
    "derivation": [
        ("", r"J = \frac{1}{N}\sum_i \|x_i - w w^\top x_i\|^2 + {k} - {k}"),
        ("=", r"\frac{1}{N}\sum_i \|x_i - \alpha^2 u u^\top x_i\|^2 + {k} - {k}"),
        ("=", r"\frac{1}{N}\sum_i \left(\|x_i\|^2 - 2\alpha^2 x_i^\top u u^\top x_i + \alpha^4 x_i^\top u u^\top u u^\top x_i\right) + {k} - {k}"),
        ("=", r"\frac{1}{N}\sum_i \|x_i\|^2 + (\alpha^4 - 2\alpha^2) u^\top S u + {k} - {k}"),
        (r"\simeq", r"(\alpha^4 - 2\alpha^2) u^\top S u + {k} - {k}"),
        (r"\simeq", r"- u^\top S u + {k} - {k}"),
        (r"\Rightarrow \arg\max_u", r"u^\top S u + {k} - {k}"),
    ],
    "objective": r"u^\top S u + {k} - {k}",
    "alpha": "1 + {k} - {k}",
}


def answers(template: dict[str, Any], k: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, value in template.items():
        if isinstance(value, list):
            out[field] = [{"rel": r, "expr": e.replace("{k}", str(k))} for r, e in value]
        else:
            out[field] = value.replace("{k}", str(k))
    return out


def checkers_for(exercise: str) -> dict[str, Callable[[Any], Any]]:
    folder = GRADERS / exercise
    rubric = load_rubric(folder)
    return {i.field: math_checker.make_checker(i, folder) for i in rubric.items if i.engine == "math"}


def grade_cached(exercise: str, cached: dict[str, dict], answer: dict[str, Any]) -> float:
    if exercise not in cached:
        cached[exercise] = checkers_for(exercise)
    checks = cached[exercise]
    return sum(checks[f](a).fraction for f, a in answer.items())


def grade_naive(exercise: str, answer: dict[str, Any]) -> float:
    """Parse targets and sample the instantiations again for this one answer."""
    math_space._SPACES.clear()
    math_checker._JUDGES.clear()
    for cache in (math_lines.parse_expression, math_lines.parse_derivation_pairs, math_lines.parse_derivation_text):
        cache.cache_clear()
    checks = checkers_for(exercise)
    return sum(checks[f](a).fraction for f, a in answer.items())


def timed(fn: Callable[[], float], expected: float) -> tuple[float, float]:
    """(wall ms, process CPU ms): CPU time is the steadier number on a shared machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    score = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if abs(score - expected) > 1e-9:
        raise SystemExit(f"benchmark answer scored {score}, expected {expected}")
    return wall * 1000, cpu * 1000


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--naive-runs", type=int, default=20)
    args = ap.parse_args()
    cached: dict[str, dict] = {}
    for label, exercise, template in (("ex1", "ex1", EX1), ("ex1 notations", "ex1", EX1_NOTATIONS), ("ex2", "ex2", EX2)):
        expected = float(len(template))
        grade_cached(exercise, cached, answers(template, -1))  # build checkers, sample once
        fast = [timed(lambda k=k: grade_cached(exercise, cached, answers(template, k)), expected) for k in range(args.runs)]
        naive = [timed(lambda k=k: grade_naive(exercise, answers(template, 10_000 + k)), expected) for k in range(args.naive_runs)]
        math_space._SPACES.clear()
        math_checker._JUDGES.clear()
        cached.clear()
        for clock, pick in (("wall", 0), ("cpu", 1)):
            f_med, f_p95 = summary([t[pick] for t in fast])
            n_med, n_p95 = summary([t[pick] for t in naive])
            print(f"{label} [{clock}]: cached median {f_med:.2f} ms  p95 {f_p95:.2f} ms  ({args.runs} answers) | "
                  f"naive median {n_med:.2f} ms  p95 {n_p95:.2f} ms  ({args.naive_runs}) | ratio naive/cached {n_med / f_med:.1f}x")


if __name__ == "__main__":
    main()
