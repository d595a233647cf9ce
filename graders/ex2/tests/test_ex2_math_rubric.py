"""Exercise 2 as the rubric states it (contract §2): each check with its points, the student's
answer against the ground truth, and the hostile samples in ../samples/."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import graders
from reference.pca import covariance, top_eigenvector

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "samples").glob("*.json"))


def points(answers: dict) -> dict[str, float]:
    result = graders.grader("ex2").grade(answers)
    return {item.id: item.score for item in result.items}


def feedback(answers: dict, item: str) -> str:
    result = graders.grader("ex2").grade(answers)
    return next(i.feedback for i in result.items if i.id == item)


MODEL = [
    {"rel": "", "expr": r"J = \frac{1}{N}\sum_i \|x_i - w w^\top x_i\|^2"},
    {"rel": "=", "expr": r"\frac{1}{N}\sum_i \|x_i - \alpha^2 u u^\top x_i\|^2"},
    {"rel": "=", "expr": r"\frac{1}{N}\sum_i \|x_i\|^2 + (\alpha^4 - 2\alpha^2) u^\top S u"},
    {"rel": r"\simeq", "expr": r"(\alpha^4 - 2\alpha^2) u^\top S u"},
    {"rel": r"\simeq", "expr": r"- u^\top S u"},
    {"rel": r"\Rightarrow \arg\max_u", "expr": r"u^\top S u"},
]


def test_rubric_points_and_engines():
    rubric = graders.grader("ex2").rubric
    assert {(i.id, i.points, i.engine) for i in rubric.items} == {
        ("ex2a.derivation", 12, "math"), ("ex2a.objective", 4, "math"), ("ex2a.alpha", 4, "math"),
    }


def test_model_answer_earns_all_20_points():
    assert points({"derivation": MODEL, "objective": r"u^\top S u", "alpha": "1"}) == {
        "ex2a.derivation": 12, "ex2a.objective": 4, "ex2a.alpha": 4,
    }


# ex2a.alpha (4 P): the optimal α is 1, in any notation.
@pytest.mark.parametrize("answer", ["1", "1.0", r"\alpha^* = 1", "alpha = 1", "sqrt(1)", "2/2", r"\frac{2}{2}", "α = 1"])
def test_alpha_one_in_any_notation_earns_4(answer):
    assert points({"alpha": answer})["ex2a.alpha"] == 4


@pytest.mark.parametrize("answer", ["sqrt(2)", "2", "0", "-1", "1/2", r"\sqrt{2}/2"])
def test_other_alphas_earn_0(answer):
    assert points({"alpha": answer})["ex2a.alpha"] == 0


@pytest.mark.parametrize("answer", [r"\alpha^2 = 1", "alpha^4 = 1", r"\alpha^{2} = \frac{2}{2}"])
def test_an_equation_for_alpha_is_solved_with_alpha_positive(answer):
    assert points({"alpha": answer})["ex2a.alpha"] == 4


@pytest.mark.parametrize("answer", [r"\alpha^2 = 2", r"\alpha^2 = -1", r"\alpha^2 = 0"])
def test_an_equation_with_another_root_earns_0(answer):
    assert points({"alpha": answer})["ex2a.alpha"] == 0


def test_both_signs_earn_half_as_alpha_is_positive():
    """`\\alpha = \\pm 1`: the + root is right, but α > 0 is given, so −1 is not admissible."""
    assert points({"alpha": r"\alpha = \pm 1"})["ex2a.alpha"] == 2
    assert points({"alpha": "±1"})["ex2a.alpha"] == 2
    assert points({"alpha": r"\pm\sqrt{2}"})["ex2a.alpha"] == 0


def test_alpha_one_minimises_the_alpha_factor_of_the_reference_loss():
    """The target α = 1 is the ground truth: it minimises α⁴ − 2α² (the only α-dependence of J)."""
    grid = np.linspace(0.05, 3, 2000)
    assert abs(grid[np.argmin(grid**4 - 2 * grid**2)] - 1) < 1e-2


# ex2a.objective (4 P): uᵀSu up to a positive factor and an additive constant.
@pytest.mark.parametrize("answer", ["u^T S u", r"\mathbf{u}^\top S \mathbf{u}", "u' S u", "2 u^T S u + 3", r"\arg\max_u u^\top S u",
                                    r"\frac{1}{N}\sum_{i=1}^N (u^\top x_i)^2", "sum_i (x_i^T u)^2", "u^T S u / N"])
def test_objective_up_to_factor_and_constant_earns_4(answer):
    assert points({"objective": answer})["ex2a.objective"] == 4


@pytest.mark.parametrize("answer", ["-u^T S u", "u^T u", "(u^T S u)^2 - 3 u^T S u", r"(\alpha^4 - 2\alpha^2) u^\top S u", "S"])
def test_other_objectives_earn_0(answer):
    assert points({"objective": answer})["ex2a.objective"] == 0


def test_accepted_objective_is_maximised_by_the_reference_eigenvector():
    """Student against reference: on one data set, the reference top eigenvector beats random unit u."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 3)) * np.array([2.0, 1.0, 0.3])
    S, u1 = covariance(X), top_eigenvector(X)
    for _ in range(100):
        v = rng.standard_normal(3)
        v /= np.linalg.norm(v)
        assert 2 * u1 @ S @ u1 + 3 >= 2 * v @ S @ v + 3 - 1e-12  # the accepted "2 u^T S u + 3"
    assert points({"objective": "2 u^T S u + 3"})["ex2a.objective"] == 4


# ex2a.derivation (12 P): start, end, every step valid; partial credit; first wrong step named.
def test_sign_error_is_named_and_costs_points():
    wrong = [dict(l) for l in MODEL]
    wrong[2]["expr"] = r"\frac{1}{N}\sum_i \|x_i\|^2 + (\alpha^4 + 2\alpha^2) u^\top S u"
    wrong[3]["expr"] = r"(\alpha^4 + 2\alpha^2) u^\top S u"
    score = points({"derivation": wrong})["ex2a.derivation"]
    assert 2 <= score <= 9
    assert "First wrong step: line 3" in feedback({"derivation": wrong}, "ex2a.derivation")


def test_echo_shows_how_each_line_was_read():
    text = feedback({"derivation": MODEL}, "ex2a.derivation")
    assert r"\left(\alpha^{4} - 2 \cdot \alpha^{2}\right) \cdot u^\top \cdot S \cdot u" in text


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_samples_land_in_their_ranges(path):
    case = json.loads(path.read_text(encoding="utf-8"))
    got = points(case["submission"]["answers"])
    for item, (lo, hi) in case["expect"].items():
        assert lo <= got[item] <= hi, f"{case['name']}: {item} = {got[item]}, expected [{lo}, {hi}] ({case['why']})"


@pytest.mark.parametrize("answer", [r"\text{argmax}_{\|u\|=1} u^\top S u", r"\operatorname*{arg\,max}_{u \in \mathbb{R}^d} u^\top S u",
                                    r"\max_{\|\mathbf{u}\|_2 = 1} \mathbf{u}^\top S\mathbf{u}"])
def test_objective_with_constraint_decorations_earns_4(answer):
    assert points({"objective": answer})["ex2a.objective"] == 4


def test_unseen_notations_in_a_derivation_earn_12():
    lines = [
        {"rel": "", "expr": r"J(\alpha, u) = \frac{1}{N}\sum_i \|x_i - \hat{x}_i\|^2"},
        {"rel": "=", "expr": r"\frac{1}{N}\sum_i \|x_i - w s_i\|^2"},
        {"rel": "=", "expr": r"\operatorname{tr}(S) - 2\alpha^2 u^T S u + \alpha^4 u^T S u"},
        {"rel": "~", "expr": r"(\alpha^2 - 1)^2 u^T S u - u^T S u"},
        {"rel": "~", "expr": "-u^T S u"},
        {"rel": r"\Rightarrow \arg\max_{\|u\| = 1}", "expr": "u^T S u"},
    ]
    assert points({"derivation": lines})["ex2a.derivation"] == 12


def test_argmin_lines_with_constraints_earn_12():
    lines = [
        {"rel": "", "expr": r"\arg\min_{\alpha > 0, \|u\|=1} \frac{1}{N}\sum_{i=1}^N \|x_i - w w^T x_i\|^2"},
        {"rel": "=", "expr": r"\arg\min_{\alpha > 0, \|u\|=1} \frac{1}{N}\sum_{i=1}^N (x_i^T x_i - 2 \alpha^2 (u^T x_i)^2 + \alpha^4 (u^T x_i)^2)"},
        {"rel": "=", "expr": r"\arg\min_{\alpha>0,u} (\alpha^4 - 2\alpha^2) \frac{1}{N}\sum_i (u^T x_i)^2"},
        {"rel": "=", "expr": r"\arg\max_{u} u^T S u"},
    ]
    assert points({"derivation": lines})["ex2a.derivation"] == 12


@pytest.mark.parametrize("answer", [r"\max_u u^\top S u \quad \text{s.t.} \quad \|u\| = 1", "u^T S u subject to norm(u) = 1", "u^T S u s.t. u^T u = 1"])
def test_objective_with_a_stated_constraint_earns_4(answer):
    assert points({"objective": answer})["ex2a.objective"] == 4


# ex2a.derivation (12 P): a derivation is shown work. Writing the start and jumping straight to
# "⇒ argmax" earns the start and end shares only; the same conclusion after real steps earns all.
def test_jumping_from_start_to_conclusion_earns_start_and_end_only():
    leap = [MODEL[0], MODEL[-1]]
    assert points({"derivation": leap})["ex2a.derivation"] == pytest.approx(12 * 0.25)
    assert "intermediate steps" in feedback({"derivation": leap}, "ex2a.derivation")


def test_three_shown_steps_before_the_conclusion_earn_full_marks_two_earn_less():
    three = [MODEL[0], MODEL[1], MODEL[2], MODEL[4], MODEL[5]]
    two = [MODEL[0], MODEL[2], MODEL[4], MODEL[5]]
    assert points({"derivation": three})["ex2a.derivation"] == 12
    assert points({"derivation": two})["ex2a.derivation"] == pytest.approx(12 * (0.25 + 0.75 * 2 / 3))


# The sheet's own solution, verbatim (one string, rows separated by \\).
SHEET_SOLUTION = r"""\arg \min_{\alpha, \mathbf{u}} J(\mathbf{w}) = \arg \min_{\alpha, \mathbf{u}} \frac{1}{N} \sum_{i} ||\mathbf{x}_{i} - \mathbf{w} \mathbf{w}^{\top} \mathbf{x}_{i}||^{2} \\
= \arg \min_{\alpha, \mathbf{u}} \frac{1}{N} \sum_{i} ||\mathbf{x}_{i} - \alpha^{2} \mathbf{u} \mathbf{u}^{\top} \mathbf{x}_{i}||^{2} \\
= \arg \min_{\alpha, \mathbf{u}} \frac{1}{N} \sum_{i} (||\mathbf{x}_{i}||^{2} - 2\alpha^{2} \mathbf{x}_{i}^{\top} \mathbf{u} \mathbf{u}^{\top} \mathbf{x}_{i} + \alpha^{4} \mathbf{x}_{i}^{\top} \mathbf{u} \mathbf{u}^{\top} \mathbf{u} \mathbf{u}^{\top} \mathbf{x}_{i}) \\
= \arg \min_{\alpha, \mathbf{u}} \frac{1}{N} \sum_{i} (||\mathbf{x}_{i}||^{2} - 2\alpha^{2} \mathbf{u}^{\top} \mathbf{x}_{i} \mathbf{x}_{i}^{\top} \mathbf{u} + \alpha^{4} \mathbf{u}^{\top} \mathbf{x}_{i} \mathbf{x}_{i}^{\top} \mathbf{u}) \\
= \arg \min_{\alpha, \mathbf{u}} \frac{1}{N} \sum_{i} (-2\alpha^{2} \mathbf{u}^{\top} \mathbf{x}_{i} \mathbf{x}_{i}^{\top} \mathbf{u} + \alpha^{4} \mathbf{u}^{\top} \mathbf{x}_{i} \mathbf{x}_{i}^{\top} \mathbf{u}) \\
= \arg \min_{\alpha, \mathbf{u}} \frac{1}{N} \sum_{i} (-2\alpha^{2} + \alpha^{4}) (\mathbf{u}^{\top} \mathbf{x}_{i} \mathbf{x}_{i}^{\top} \mathbf{u}) \\
= \arg \min_{\alpha, \mathbf{u}} (-2\alpha^{2} + \alpha^{4}) \mathbf{u}^{\top} (\frac{1}{N} \sum_{i} \mathbf{x}_{i} \mathbf{x}_{i}^{\top}) \mathbf{u} \\
= \arg \min_{\alpha, \mathbf{u}} (-2\alpha^{2} + \alpha^{4}) \mathbf{u}^{\top} S \mathbf{u} \\
= \arg \max_{\mathbf{u}} \mathbf{u}^{\top} S \mathbf{u}"""


def test_the_sheets_own_solution_earns_12():
    assert points({"derivation": SHEET_SOLUTION})["ex2a.derivation"] == 12, feedback({"derivation": SHEET_SOLUTION}, "ex2a.derivation")


def test_scalar_squares_are_not_read_as_norms():
    answer = r"\frac{1}{N}\sum_i (u^\top x_i)^2"
    assert points({"objective": answer})["ex2a.objective"] == 4
    assert "‖v‖²" not in feedback({"objective": answer}, "ex2a.objective")


def test_a_squared_vector_in_a_derivation_is_read_as_its_norm():
    lines = [{"rel": "", "expr": r"J = \frac{1}{N}\sum_i (x_i - w w^\top x_i)^2"}] + MODEL[1:]
    assert points({"derivation": lines})["ex2a.derivation"] == 12
    assert "‖v‖²" in feedback({"derivation": lines}, "ex2a.derivation")
    cubed = [{"rel": "", "expr": r"J = \frac{1}{N}\sum_i (x_i - w w^\top x_i)^3"}] + MODEL[1:]
    assert "cannot raise a column vector" in feedback({"derivation": cubed}, "ex2a.derivation")


def test_component_sums_next_to_data_sums():
    """In ex2 i and j are data indices: x_i stays a data vector, while u_j (u has no data
    index) is a component of u summed over the dimension d."""
    assert points({"alpha": r"\sum_{j=1}^{d} u_j^2"})["ex2a.alpha"] == 4
    assert "use another letter" in feedback({"objective": r"\sum_i u_i^\top x_i"}, "ex2a.objective")
    assert points({"objective": r"\frac{1}{N}\sum_{i=1}^N (u^\top x_i)^2"})["ex2a.objective"] == 4


def test_an_expectation_over_the_data_is_the_mean():
    start = [{"rel": "", "expr": r"J = \mathbb{E}_i\left[\|x_i - w w^\top x_i\|^2\right]"}]
    assert points({"derivation": start + MODEL[1:]})["ex2a.derivation"] == 12
    twice = [{"rel": "", "expr": r"J = 2\mathbb{E}_i\left[\|x_i - w w^\top x_i\|^2\right]"}]
    assert "The first line is not" in feedback({"derivation": twice + MODEL[1:]}, "ex2a.derivation")


@pytest.mark.parametrize("answer", [r"\frac{1}{N}\sum_i (\sum_j u_j x_{ij})^2", r"\frac{1}{N}\sum_{i=1}^N (\sum_{k=1}^d u_k x_{i,k})^2"])
def test_components_of_data_vectors(answer):
    assert points({"objective": answer})["ex2a.objective"] == 4, feedback({"objective": answer}, "ex2a.objective")


@pytest.mark.parametrize("answer,message", [
    (r"\frac{1}{N}\sum_i x_{ij}", "sum it over j"),
    (r"\frac{1}{N}\sum_i (\sum_i u_i x_{ii})^2", "use another letter"),
])
def test_component_mistakes_in_ex2(answer, message):
    assert points({"objective": answer})["ex2a.objective"] == 0
    assert message in feedback({"objective": answer}, "ex2a.objective")


@pytest.mark.parametrize("answer", [r"(2\alpha^2 - \alpha^4) u^\top S u", r"\alpha^2 (2 - \alpha^2) u^T S u"])
def test_objective_still_in_alpha_is_partly_right(answer):
    got = points({"objective": answer})["ex2a.objective"]
    assert got == 2
    assert "Partly right" in feedback({"objective": answer}, "ex2a.objective")


@pytest.mark.parametrize("answer", [r"(\alpha^4 - 2\alpha^2) u^\top S u", r"\alpha^2 u^\top S u"])
def test_other_objectives_in_alpha_earn_0(answer):
    assert points({"objective": answer})["ex2a.objective"] == 0


# ex2a.derivation: repeating a line shows no work. Forty copies of one expression that is
# neither the start nor the end earn nothing; repeating a line of a right derivation costs nothing.
def test_repeated_lines_are_no_steps():
    junk = "sum_i (x_i^T x_i)^2"
    padded = [{"rel": "" if k == 0 else "=", "expr": junk} for k in range(40)]
    assert points({"derivation": padded})["ex2a.derivation"] == 0
    with_repeat = MODEL[:3] + [{"rel": "=", "expr": MODEL[2]["expr"]}] + MODEL[3:]
    assert points({"derivation": with_repeat})["ex2a.derivation"] == 12
