"""Exercise 1, math items, as the rubric states them (contract §2): τ (8 P), the derivation
(7 P), the entropy limits (1.5 P each); the student's answer against the ground truth in
reference/cosine_softmax.py, and the samples in ../samples/math-*.json."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import graders
from graders.engines.math.space import load_space
from reference.cosine_softmax import entropy_at_temperature

FOLDER = Path(__file__).resolve().parents[1]
SAMPLES = sorted((FOLDER / "samples").glob("math-*.json"))
MATH_ITEMS = {"ex1a.tau": 8, "ex1a.derivation": 7, "ex1b.entropy_tau_to_zero": 1.5, "ex1b.entropy_tau_to_infinity": 1.5}


def grade(answers: dict):
    return {i.id: i for i in graders.grader("ex1").grade(answers).items}


def points(answers: dict) -> dict[str, float]:
    return {k: v.score for k, v in grade(answers).items()}


def test_rubric_points_and_engines():
    rubric = graders.grader("ex1").rubric
    assert {i.id: i.points for i in rubric.items if i.engine == "math"} == MATH_ITEMS


# ex1a.tau (8 P): equals 1/‖z‖ for every z.
@pytest.mark.parametrize("answer", [
    "1/norm(z)", r"\frac{1}{\|z\|}", r"1/\lVert z\rVert", r"\|z\|^{-1}", "1/sqrt(z^T z)", r"(z^\top z)^{-1/2}",
    "norm(z)^(-1)", "1/||z||", r"\tau = \frac{1}{\left\|\mathbf{z}\right\|_2}", "1/‖z‖", "(z'z)^(-1/2)", "1/|z|",
])
def test_tau_in_any_notation_earns_8(answer):
    assert points({"tau": answer})["ex1a.tau"] == 8


@pytest.mark.parametrize("answer", [
    "1/sqrt(sum_j z_j^2)", r"\frac{1}{\sqrt{\sum_{j=1}^{d} z_j^2}}", r"(\sum_i z_i^2)^{-1/2}", r"1/\sqrt{\sum_{k=1}^d z_k z_k}",
])
def test_tau_in_component_notation_earns_8(answer):
    """z_j is the j-th component of z when j is summed over the dimension d (j, k are also
    class indices in ex1: how the index is used decides)."""
    item = grade({"tau": answer})["ex1a.tau"]
    assert item.score == 8, item.feedback


@pytest.mark.parametrize("answer,message", [
    ("1/z_j", "sum it over j"),
    (r"1/\sqrt{\sum_j w_j z_j}", "use another letter"),
    (r"1/\sqrt{\sum_{j=1}^{C} z_j^2}", "up to the dimension d"),
    (r"\frac{1}{\sum_j z_j^2}", "1/‖z‖²"),
    (r"\frac{1}{\sqrt{\sum_j z_j}}", "does not equal τ"),
])
def test_component_notation_mistakes(answer, message):
    item = grade({"tau": answer})["ex1a.tau"]
    assert item.score == 0 and message in item.feedback, item.feedback


def test_class_sums_keep_their_meaning_next_to_component_sums():
    lines = [{"rel": "", "expr": r"\frac{\exp(w_c^T z + b_c)}{\sum_j \exp(w_j^T z + b_j)}"},
             {"rel": "=", "expr": r"\frac{\exp(\sum_k w_{ck} z_k)}{\sum_j \exp(w_j^T z)}"}]
    item = grade({"derivation": lines})["ex1a.derivation"]
    assert "✓ It starts at" in item.feedback and "Every step is valid" in item.feedback, item.feedback
    assert "w_{c,k}" in item.feedback  # w_{ck}: component k of w_c
    wrong = [lines[0], {"rel": "=", "expr": r"\frac{\exp(\sum_k w_{ck} z_c)}{\sum_j \exp(w_j^T z)}"}]
    assert "First wrong step: line 2" in grade({"derivation": wrong})["ex1a.derivation"].feedback


@pytest.mark.parametrize("answer,hint", [
    ("norm(z)", "inverse of τ"),
    ("z^T z", "‖z‖²"),
    ("1/norm(z)^2", "1/‖z‖²"),
    ("1", "τ depends on z"),
    ("tau", "may not use τ"),
    ("2/norm(z)", "does not equal τ"),
])
def test_wrong_tau_earns_0_with_useful_feedback(answer, hint):
    item = grade({"tau": answer})["ex1a.tau"]
    assert item.score == 0
    assert hint in item.feedback


def test_tau_is_tested_far_from_unit_norm():
    """At ‖z‖ = 1, ‖z‖ and 1/‖z‖ agree: the instantiations must span 0.05…20."""
    space = load_space(FOLDER)
    norms = np.concatenate([np.linalg.norm(env.value("z"), axis=(-2, -1)).ravel() for env in space.instances])
    assert norms.min() <= 0.05 * 1.01 and norms.max() >= 20 * 0.99


# ex1b.entropy_tau_to_zero / _to_infinity (1.5 P each): 0 and log C, judged by the reference.
@pytest.mark.parametrize("answer", ["0", "H = 0", "0.0", "-1 log(1)"])
def test_entropy_at_zero_temperature(answer):
    assert points({"entropy_tau_to_zero": answer})["ex1b.entropy_tau_to_zero"] == 1.5


@pytest.mark.parametrize("answer", [r"\log C", "log(C)", r"\ln C", "ln(C)", "H = log C", r"-\sum_c \frac{1}{C}\log\frac{1}{C}", r"\log(C)"])
def test_entropy_at_infinite_temperature(answer):
    assert points({"entropy_tau_to_infinity": answer})["ex1b.entropy_tau_to_infinity"] == 1.5


@pytest.mark.parametrize("answer,unit", [(r"\log_2 C", "in bits"), ("log_2(C)", "in bits"), (r"\log_{2} C", "in bits"),
                                         (r"\log_{10} C", "base-10"), (r"\log_e C", "")])
def test_entropy_in_any_log_base(answer, unit):
    """An entropy in bits is the same answer in other units; the feedback says which."""
    item = grade({"entropy_tau_to_infinity": answer})["ex1b.entropy_tau_to_infinity"]
    assert item.score == 1.5, item.feedback
    assert unit in item.feedback
    assert ("(in " in item.feedback) == bool(unit)


@pytest.mark.parametrize("answer", [r"\log_2 (C-1)", r"\log_2 C + \log C", r"\log_2 2C", "1/log_2(C)"])
def test_wrong_entropy_in_bits_earns_nothing(answer):
    assert points({"entropy_tau_to_infinity": answer})["ex1b.entropy_tau_to_infinity"] == 0


def test_zero_entropy_in_bits():
    assert points({"entropy_tau_to_zero": r"\log_2 1"})["ex1b.entropy_tau_to_zero"] == 1.5


def test_swapped_limits_earn_nothing_and_say_why():
    items = grade({"entropy_tau_to_zero": "log(C)", "entropy_tau_to_infinity": "0"})
    assert items["ex1b.entropy_tau_to_zero"].score == 0 and "uniform" in items["ex1b.entropy_tau_to_zero"].feedback
    assert items["ex1b.entropy_tau_to_infinity"].score == 0 and "one-hot" in items["ex1b.entropy_tau_to_infinity"].feedback


def test_entropy_answers_against_the_reference():
    """An answer is accepted exactly when it matches the reference entropy for several C."""
    rng = np.random.default_rng(3)
    for C in (2, 3, 5, 10):
        z, W = rng.standard_normal((4, 3)), rng.standard_normal((C, 3))
        assert np.allclose(entropy_at_temperature(z, W, 1e9), np.log(C))
        assert np.allclose(entropy_at_temperature(z, W, 1e-9), 0.0)
    assert points({"entropy_tau_to_infinity": "log(C) - 1/C"})["ex1b.entropy_tau_to_infinity"] == 0
    assert points({"entropy_tau_to_infinity": "log(2)"})["ex1b.entropy_tau_to_infinity"] == 0


# ex1a.derivation (7 P): from p(c|x) to the cosine softmax, every step valid.
MODEL = [
    {"rel": "", "expr": r"p(c|x) = \frac{\exp(w_c^\top z + b_c)}{\sum_{c'} \exp(w_{c'}^\top z + b_{c'})}"},
    {"rel": "=", "expr": r"\frac{\exp(w_c^\top z)}{\sum_{c'} \exp(w_{c'}^\top z)}"},
    {"rel": "=", "expr": r"\frac{\exp(\|w_c\| \|z\| \cos(w_c, z))}{\sum_{c'} \exp(\|w_{c'}\| \|z\| \cos(w_{c'}, z))}"},
    {"rel": "=", "expr": r"\frac{\exp(\cos(w_c, z) / \tau)}{\sum_{c'} \exp(\cos(w_{c'}, z)/\tau)}"},
]


def test_model_derivation_earns_7():
    assert points({"derivation": MODEL})["ex1a.derivation"] == 7


def test_dropping_the_norm_is_named_and_partial():
    wrong = [dict(l) for l in MODEL]
    wrong[2]["expr"] = r"\frac{\exp(\cos(w_c, z))}{\sum_{c'} \exp(\cos(w_{c'}, z))}"
    item = grade({"derivation": wrong})["ex1a.derivation"]
    assert 1 <= item.score <= 5
    assert "First wrong step: line 3" in item.feedback and "depends on z" in item.feedback


def test_derivation_ending_elsewhere_loses_the_end():
    item = grade({"derivation": MODEL[:3]})["ex1a.derivation"]
    assert item.score < 7 and "The last line is not" in item.feedback


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_samples_land_in_their_ranges(path):
    case = json.loads(path.read_text(encoding="utf-8"))
    got = points(case["submission"]["answers"])
    for item, (lo, hi) in case["expect"].items():
        assert lo <= got[item] <= hi, f"{case['name']}: {item} = {got[item]}, expected [{lo}, {hi}] ({case['why']})"


def test_the_sheets_own_notation_f_of_x_and_phi_of_x():
    lines = [
        {"rel": "", "expr": r"p(c|\mathbf{x}) = \frac{\exp(f(\mathbf{x})_c)}{\sum_{c'} \exp(f(\mathbf{x})_{c'})}"},
        {"rel": "=", "expr": r"\frac{\exp(\mathbf{w}_c^\top \phi(\mathbf{x}))}{\sum_{c'} \exp(\mathbf{w}_{c'}^\top \phi(\mathbf{x}))}"},
        {"rel": "=", "expr": r"\frac{\exp(\cos(w_c, z)/\tau)}{\sum_{c'} \exp(\cos(w_{c'}, z)/\tau)}"},
    ]
    item = grade({"derivation": lines})["ex1a.derivation"]
    assert item.score == 7
    assert r"f(x)_{c}" in item.feedback
    assert points({"tau": r"1/\|\phi(\mathbf{x})\|"})["ex1a.tau"] == 8


# The sheet's own solution, verbatim (one string, rows separated by \\): p ∝ numerator, then
# "=" the softmax itself, then ∝ rows and the definition of τ.
SHEET_SOLUTION = r"""p(c|\boldsymbol{x}) \propto \exp(\boldsymbol{w}_{c}^{\top}\boldsymbol{z} + b_{c}) \\
= \frac{\exp(\boldsymbol{w}_{c}^{\top}\boldsymbol{z})\exp(b_{c})}{\sum_{c'}\exp(\boldsymbol{w}_{c'}^{\top}\boldsymbol{z})\exp(b_{c'})} \\
\propto \exp(\|\boldsymbol{w}_{c}\|\|\boldsymbol{z}\|\cos(\boldsymbol{w}_{c},\boldsymbol{z})) \\
\propto \exp(\|\boldsymbol{w}_{c}\|\|\boldsymbol{z}\|\cos(\boldsymbol{w}_{c},\boldsymbol{z})) \\
\Rightarrow \tau = \frac{1}{\|\boldsymbol{z}\|}"""


def test_the_sheets_own_solution_earns_7():
    item = grade({"derivation": SHEET_SOLUTION})["ex1a.derivation"]
    assert item.score == 7, item.feedback
    assert "Every step is valid" in item.feedback


def test_a_line_after_propto_must_still_be_proportional_to_p():
    """Accepting `= softmax` after `p ∝ numerator` must not accept a line that is not ∝ p(c|x)."""
    wrong = SHEET_SOLUTION.replace(r"\exp(b_{c})}{", r"\exp(2 b_{c})}{", 1).replace(
        r"\frac{\exp(\boldsymbol{w}_{c}^{\top}\boldsymbol{z})", r"\frac{\exp(2\boldsymbol{w}_{c}^{\top}\boldsymbol{z})", 1)
    item = grade({"derivation": wrong})["ex1a.derivation"]
    assert item.score < 7
    assert "First wrong step: line 2" in item.feedback, item.feedback


def test_a_bare_b_is_the_common_bias():
    """All biases are equal, so students write b for b_c; w still needs its class index."""
    lines = r"""\frac{\exp(w_c^T z + b)}{\sum_{c'} \exp(w_{c'}^T z + b)} \\
= \frac{\exp(w_c^T z)}{\sum_{c'} \exp(w_{c'}^T z)} \\
= \frac{\exp(\cos(w_c, z)/\tau)}{\sum_{c'} \exp(\cos(w_{c'}, z)/\tau)}"""
    item = grade({"derivation": lines})["ex1a.derivation"]
    assert item.score == 7, item.feedback
    # b is one number shared by the classes: dropping it from the numerator only is still a slip.
    wrong = lines.replace(r"\exp(w_c^T z)}{\sum_{c'} \exp(w_{c'}^T z)}", r"\exp(w_c^T z + b)}{\sum_{c'} \exp(w_{c'}^T z)}")
    item = grade({"derivation": wrong})["ex1a.derivation"]
    assert "First wrong step: line 2" in item.feedback and "use \\propto" in item.feedback
    item = grade({"derivation": lines.replace("w_c^T z + b", "w^T z + b")})["ex1a.derivation"]
    assert "'w' needs its index" in item.feedback
