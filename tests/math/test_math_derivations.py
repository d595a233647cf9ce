"""Mutation tests: each single change that breaks a model derivation is caught at the right
line with the right reason; harmless rewrites are accepted (contract §3 relations)."""
from __future__ import annotations

import re

import pytest

import graders

EX2_MODEL = [
    ("", r"J = \frac{1}{N}\sum_i \|x_i - w w^\top x_i\|^2"),
    ("=", r"\frac{1}{N}\sum_i \|x_i - \alpha^2 u u^\top x_i\|^2"),
    ("=", r"\frac{1}{N}\sum_i \left(\|x_i\|^2 - 2\alpha^2 x_i^\top u u^\top x_i + \alpha^4 x_i^\top u u^\top u u^\top x_i\right)"),
    ("=", r"\frac{1}{N}\sum_i \|x_i\|^2 + (\alpha^4 - 2\alpha^2) u^\top S u"),
    (r"\simeq", r"(\alpha^4 - 2\alpha^2) u^\top S u"),
    (r"\simeq", r"- u^\top S u"),
    (r"\Rightarrow \arg\max_u", r"u^\top S u"),
]

EX1_MODEL = [
    ("", r"p(c|x) = \frac{\exp(w_c^\top z + b_c)}{\sum_{c'} \exp(w_{c'}^\top z + b_{c'})}"),
    ("=", r"\frac{\exp(w_c^\top z)}{\sum_{c'} \exp(w_{c'}^\top z)}"),
    ("=", r"\frac{\exp(\|w_c\| \|z\| \cos(w_c, z))}{\sum_{c'} \exp(\|w_{c'}\| \|z\| \cos(w_{c'}, z))}"),
    ("=", r"\frac{\exp(\cos(w_c, z) / \tau)}{\sum_{c'} \exp(\cos(w_{c'}, z)/\tau)}"),
]


def mark(exercise: str, lines: list[tuple[str, str]] | str):
    checker = graders.grader(exercise).checkers[f"{exercise}a.derivation"]
    answer = lines if isinstance(lines, str) else [{"rel": r, "expr": e} for r, e in lines]
    return checker(answer)


def replaced(model, number, rel=None, expr=None):
    lines = list(model)
    old_rel, old_expr = lines[number - 1]
    lines[number - 1] = (old_rel if rel is None else rel, old_expr if expr is None else expr)
    return lines


def first_wrong(feedback: str) -> int | None:
    m = re.search(r"First wrong step: line (\d+)", feedback)
    return int(m.group(1)) if m else None


def test_models_get_full_marks():
    for exercise, model in (("ex1", EX1_MODEL), ("ex2", EX2_MODEL)):
        result = mark(exercise, model)
        assert result.fraction == 1.0, result.feedback
        assert "Every step is valid" in result.feedback


EX2_MUTATIONS = [
    # (line, rel, expr, reason fragment)
    (3, None, r"\frac{1}{N}\sum_i \left(\|x_i\|^2 + 2\alpha^2 x_i^\top u u^\top x_i + \alpha^4 x_i^\top u u^\top u u^\top x_i\right)", "depends on"),
    (4, None, r"\frac{1}{N}\sum_i \|x_i\|^2 + (\alpha^3 - 2\alpha^2) u^\top S u", "depends on α"),
    (4, None, r"\frac{1}{N}\sum_i \|x_i\|^2 + (\alpha^4 - 2\alpha) u^\top S u", "depends on α"),
    (4, None, r"\frac{1}{N}\sum_i \|x_i\|^2 + \alpha^4 u^\top S u", "depends on α"),
    (5, "=", None, "use ≃"),
    (6, None, r"u^\top S u", "negative factor"),
    (7, r"\Rightarrow \arg\min_u", None, "negative factor"),
    (2, None, r"\frac{1}{N}\sum_i \|x_i - \alpha u u^\top x_i\|^2", "depends on α"),
]


@pytest.mark.parametrize("number,rel,expr,reason", EX2_MUTATIONS)
def test_ex2_mutation_is_caught_at_its_line(number, rel, expr, reason):
    result = mark("ex2", replaced(EX2_MODEL, number, rel, expr))
    assert result.fraction < 1.0
    assert first_wrong(result.feedback) == number, result.feedback
    line_text = next(l for l in result.feedback.splitlines() if l.startswith(f"Line {number}"))
    assert reason in line_text, line_text


def test_a_single_slip_is_reported_once():
    lines = replaced(EX2_MODEL, 4, expr=r"\frac{1}{N}\sum_i \|x_i\|^2 + (\alpha^4 + 2\alpha^2) u^\top S u")
    lines = replaced(lines, 5, expr=r"(\alpha^4 + 2\alpha^2) u^\top S u")
    result = mark("ex2", lines)
    assert first_wrong(result.feedback) == 4
    assert "more step(s) not valid" not in result.feedback, result.feedback
    assert 0.5 < result.fraction < 0.8


EX1_MUTATIONS = [
    (3, None, r"\frac{\exp(\cos(w_c, z))}{\sum_{c'} \exp(\cos(w_{c'}, z))}", "depends on z"),
    (2, None, r"\frac{\exp(-w_c^\top z)}{\sum_{c'} \exp(-w_{c'}^\top z)}", "depends on"),
    (2, None, r"\exp(w_c^\top z)", "use \\propto"),
    (4, None, r"\frac{\exp(\cos(w_c, z) \tau)}{\sum_{c'} \exp(\cos(w_{c'}, z)\tau)}", "depends on"),
]


@pytest.mark.parametrize("number,rel,expr,reason", EX1_MUTATIONS)
def test_ex1_mutation_is_caught_at_its_line(number, rel, expr, reason):
    result = mark("ex1", replaced(EX1_MODEL, number, rel, expr))
    assert result.fraction < 1.0
    assert first_wrong(result.feedback) == number, result.feedback
    line_text = next(l for l in result.feedback.splitlines() if l.startswith(f"Line {number}"))
    assert reason in line_text, line_text


HARMLESS_EX2 = [
    (4, None, r"\frac{1}{N}\sum_{i=1}^{N} \|\mathbf{x}_i\|^2 + (-2\alpha^2 + \alpha^4) \mathbf{u}^T S \mathbf{u}"),
    (5, "~", r"(\alpha^4 - 2\alpha^2) u' S u"),
    (6, r"\simeq", r"-\frac{1}{N}\sum_i (u^\top x_i)^2"),
    (7, "=> argmax_u", r"\frac{1}{N} \sum_{n=1}^{N} (x_n^\top u)^2"),
    (3, None, r"\frac{1}{N}\sum_i \|x_i\|^2 - 2\alpha^2 u^\top S u + \alpha^4 u^\top S u"),
]


@pytest.mark.parametrize("number,rel,expr", HARMLESS_EX2)
def test_ex2_harmless_rewrites_are_accepted(number, rel, expr):
    result = mark("ex2", replaced(EX2_MODEL, number, rel, expr))
    assert result.fraction == 1.0, result.feedback


def test_one_string_with_align_rows_is_read_like_the_list():
    text = "\\begin{align*}\n" + " \\\\\n".join(
        ("&" + (r if r != r"\Rightarrow \arg\max_u" else r) + " " + e) if r else e.replace("J =", "J &=")
        for r, e in EX2_MODEL
    ) + "\n\\end{align*}"
    result = mark("ex2", text)
    assert result.fraction == 1.0, result.feedback


def test_sheet_style_argmin_on_every_line():
    text = r"""\arg\min_{\alpha,\mathbf{u}} J(\mathbf{w}) = \arg\min_{\alpha, \mathbf{u}} \frac{1}{N} \sum_{i} ||\mathbf{x}_{i} - \mathbf{w} \mathbf{w}^{\top} \mathbf{x}_{i}||^{2} \\
= \arg \min_{\alpha, \mathbf{u}} \frac{1}{N} \sum_{i} ||\mathbf{x}_{i} - \alpha^{2} \mathbf{u} \mathbf{u}^{\top} \mathbf{x}_{i}||^{2} \\
= \arg \min_{\alpha, \mathbf{u}} \frac{1}{N} \sum_{i} (-2\alpha^{2} + \alpha^{4}) (\mathbf{u}^{\top} \mathbf{x}_{i} \mathbf{x}_{i}^{\top} \mathbf{u}) \\
= \arg \min_{\alpha, \mathbf{u}} (-2\alpha^{2} + \alpha^{4}) \mathbf{u}^{\top} S \mathbf{u} \\
= \arg \max_{\mathbf{u}} \mathbf{u}^{\top} S \mathbf{u}"""
    result = mark("ex2", text)
    assert result.fraction == 1.0, result.feedback


def test_a_positive_coefficient_cannot_be_minimised_out():
    lines = EX2_MODEL[:4] + [(r"\simeq", r"(\alpha^4 + 2\alpha^2) u^\top S u"), (r"\simeq", r"-u^\top S u"), EX2_MODEL[-1]]
    result = mark("ex2", lines)
    assert result.fraction < 1.0
    assert first_wrong(result.feedback) == 5


def test_derivation_that_stops_early_loses_the_end():
    result = mark("ex2", EX2_MODEL[:5])
    assert result.fraction < 1.0
    assert "The last line is not" in result.feedback


def test_derivation_that_starts_elsewhere_loses_the_start():
    result = mark("ex2", [("", r"\frac{1}{N}\sum_i \|x_i - w^\top x_i w\|^2 + 1")] + EX2_MODEL[1:])
    assert "The first line is not" in result.feedback
    assert result.fraction < 1.0


def test_jumping_straight_to_the_end_is_not_full_marks():
    result = mark("ex2", [EX2_MODEL[0], EX2_MODEL[-1]])
    assert result.fraction < 1.0
    assert "intermediate steps" in result.feedback


def test_each_line_is_echoed_as_read():
    result = mark("ex1", [("", r"1/2 \tau"), ("=", r"\frac{\tau}{2}")])
    assert r"\frac{1}{2} \cdot \tau" in result.feedback


def test_unreadable_line_costs_that_step_only():
    lines = replaced(EX1_MODEL, 3, expr=r"\frac{\exp(\|w_c\| \|z\| \cos(w_c, z))}{\sum_{c'} \exp(\|w_{c'}\| \|z\| \mathrm{unknownthing})}")
    result = mark("ex1", lines)
    assert first_wrong(result.feedback) == 3
    assert "could not be read" in result.feedback
    assert 0.3 < result.fraction < 1.0
    assert result.needs_review


def test_sheet_style_ex1_ending_with_a_definition_of_tau():
    text = r"""p(c|\boldsymbol{x}) \propto \exp(\boldsymbol{w}_{c}^{\top}\boldsymbol{z} + b_{c}) \\
\propto \exp(\boldsymbol{w}_{c}^{\top}\boldsymbol{z}) \\
= \exp(\|\boldsymbol{w}_{c}\|\|\boldsymbol{z}\|\cos(\boldsymbol{w}_{c},\boldsymbol{z})) \\
\Rightarrow \tau = \frac{1}{\|\boldsymbol{z}\|}"""
    assert mark("ex1", text).fraction == 1.0
    wrong = text.replace(r"\tau = \frac{1}{\|\boldsymbol{z}\|}", r"\tau = \|\boldsymbol{z}\|")
    result = mark("ex1", wrong)
    assert result.fraction < 1.0 and first_wrong(result.feedback) == 4
    assert "this is not τ" in result.feedback


def test_primes_and_e_powers_in_indices():
    lines = [("", r"\frac{e^{w_c^T z + b_c}}{\sum_{c^\prime} e^{w_{c^\prime}^T z + b_{c^\prime}}}"),
             ("=", r"\frac{e^{w_c^T z}}{\sum_{c^{\prime}=1}^{C} e^{w_{c^{\prime}}^T z}}"),
             ("=", r"\frac{e^{\cos(w_c,z)/\tau}}{\sum_{k=1}^{C} e^{\cos(w_k,z)/\tau}}")]
    assert mark("ex1", lines).fraction == 1.0


def test_ex1_has_no_optimisation_so_simeq_is_refused():
    lines = [EX1_MODEL[0], (r"\simeq", EX1_MODEL[1][1])] + EX1_MODEL[2:]
    result = mark("ex1", lines)
    assert first_wrong(result.feedback) == 2 and "nothing to optimise" in result.feedback


def test_the_result_alone_is_not_the_start():
    result = mark("ex2", [EX2_MODEL[-1]])
    assert "The first line is not" in result.feedback
    assert result.fraction <= 0.15


def test_propto_without_a_class_index_means_a_constant_positive_factor():
    ok = mark("ex2", EX2_MODEL[:4] + [(r"\propto", r"2\frac{1}{N}\sum_i \|x_i\|^2 + 2(\alpha^4 - 2\alpha^2) u^\top S u")])
    assert first_wrong(ok.feedback) is None, ok.feedback
    bad = mark("ex2", EX2_MODEL[:4] + [(r"\propto", r"\left(\frac{1}{N}\sum_i \|x_i\|^2 + (\alpha^4 - 2\alpha^2) u^\top S u\right)^2")])
    assert first_wrong(bad.feedback) == 5


def test_a_line_may_return_to_the_start_quantity_by_the_weakest_relation_so_far():
    """`p ∝ A`, `= B` with B = p itself: valid (the chain says p ∝ A, then p = B up to ∝)."""
    numerator = ("", r"p(c|x) \propto \exp(w_c^\top z + b_c)")
    softmax = ("=", EX1_MODEL[0][1].split("=", 1)[1])
    ok = mark("ex1", [numerator, softmax] + EX1_MODEL[1:])
    assert ok.fraction == 1.0, ok.feedback
    # With only "=" so far, a line that is merely ∝ p(c|x) is still a slip at its line.
    only_equal = [EX1_MODEL[0], ("=", r"\exp(w_c^\top z)"), ("=", EX1_MODEL[1][1])] + EX1_MODEL[2:]
    result = mark("ex1", only_equal)
    assert first_wrong(result.feedback) == 2 and "use \\propto" in result.feedback
    # After ∝, a line that is not proportional to p(c|x) in c is caught at its line.
    wrong = [numerator, ("=", r"\frac{\exp(2 w_c^\top z)}{\sum_{c'} \exp(2 w_{c'}^\top z)}")] + EX1_MODEL[2:]
    result = mark("ex1", wrong)
    assert first_wrong(result.feedback) == 2


def test_a_wrong_relation_symbol_costs_less_than_a_wrong_step():
    """`=` where only ≃ holds is a wrong symbol on a valid step: named, but cheaper than a slip."""
    symbol = mark("ex2", replaced(EX2_MODEL, 5, rel="="))
    slip = mark("ex2", replaced(EX2_MODEL, 5, expr=r"(\alpha^4 + 2\alpha^2) u^\top S u"))
    assert first_wrong(symbol.feedback) == 5 and "use ≃" in symbol.feedback
    assert slip.fraction < symbol.fraction < 1.0
    # Two of them: still more than half of the points, less than one.
    twice = replaced(replaced(EX2_MODEL, 5, rel="="), 6, rel="=")
    result = mark("ex2", twice)
    assert 0.5 < result.fraction < symbol.fraction, result.feedback
    assert "only as ≃, not =" in result.feedback


def test_a_label_alone_on_the_first_line_names_the_start():
    """`p(c|x)` on its own line, then `\\propto ...`: the label is the softmax the exercise starts from."""
    lines = [("", "p(c|x)"), (r"\propto", r"\exp(w_c^\top z + b_c)"), (r"\propto", r"\exp(w_c^\top z)"),
             ("=", r"\exp(\|z\| \cos(w_c, z))"), ("=", r"\exp(\cos(w_c, z)/\tau)"),
             (r"\propto", EX1_MODEL[3][1])]
    result = mark("ex1", lines)
    assert result.fraction == 1.0 and not result.needs_review, result.feedback
    # A label-only line after the first is not read as the start.
    later = mark("ex1", [EX1_MODEL[0], ("=", "p(c|x)")] + EX1_MODEL[1:])
    assert later.fraction < 1.0


def test_writing_the_result_right_after_the_start_shows_no_work():
    """Start, then the claim itself (directly, or after a wrong line): the end is reached but no
    step is shown, so the steps' share is not earned."""
    restated = mark("ex1", [EX1_MODEL[0], EX1_MODEL[3]])
    assert restated.fraction <= 0.3 and "only restates" in restated.feedback
    after_slip = mark("ex1", [EX1_MODEL[0], ("=", r"\frac{\exp(\cos(w_c, z)/\|z\|)}{\sum_{c'} \exp(\cos(w_{c'}, z)/\|z\|)}"), EX1_MODEL[3]])
    assert after_slip.fraction <= 0.3 and first_wrong(after_slip.feedback) == 2
    # One real step before the result keeps its credit.
    shown = mark("ex1", [EX1_MODEL[0], ("=", r"\frac{\exp(\|z\|\cos(w_c, z))}{\sum_{c'} \exp(\|z\|\cos(w_{c'}, z))}"), EX1_MODEL[3]])
    assert shown.fraction == 1.0, shown.feedback


def test_theta_c_is_the_angle_between_w_c_and_z():
    # `\|z\| \cos\theta_c`, θ_c the angle of w_c and z (ex1 math.yaml), is a valid step; ‖z‖θ_c is not.
    right = mark("ex1", replaced(EX1_MODEL, 3, expr=r"\frac{\exp(\|z\|\cos\theta_c)}{\sum_{c'} \exp(\|z\|\cos\theta_{c'})}"))
    assert right.fraction == 1.0, right.feedback
    wrong = mark("ex1", replaced(EX1_MODEL, 3, expr=r"\frac{\exp(\|z\|\theta_c)}{\sum_{c'} \exp(\|z\|\theta_{c'})}"))
    assert wrong.fraction < 0.85 and "First wrong step: line 3" in wrong.feedback, wrong.feedback


def test_a_full_stop_after_the_last_line_is_punctuation():
    dotted = mark("ex1", replaced(EX1_MODEL, 3, expr=EX1_MODEL[3][1] + r" \; ."))
    assert dotted.fraction == 1.0, dotted.feedback


EX1_LATEX_NOTES = [
    ("", EX1_MODEL[0][1]),
    ("=", EX1_MODEL[1][1] + r" \quad \text{(by assumption } b_c = b_{c'}\text{)}"),
    ("=", EX1_MODEL[2][1] + r" \qquad (\text{definition of the inner product})"),
    ("=", EX1_MODEL[3][1] + r" \quad \text{since } \|w_c\| = 1"),
]


def test_a_latex_justification_after_a_row_is_dropped_with_its_math():
    """`\\text{(by assumption } b_c = b_{c'}\\text{)}`: the remark's math is not a new line."""
    result = mark("ex1", EX1_LATEX_NOTES)
    assert result.fraction == 1.0 and "Line 5" not in result.feedback, result.feedback
    # The remark does not hide a wrong step written before it.
    wrong = mark("ex1", replaced(EX1_LATEX_NOTES, 3, expr=r"\frac{\exp(-\|z\| \cos(w_c, z))}{\sum_{c'} \exp(-\|z\| \cos(w_{c'}, z))} \quad \text{(inner product)}"))
    assert first_wrong(wrong.feedback) == 3, wrong.feedback


def test_an_ascii_justification_in_a_last_bracket_or_after_with_is_dropped():
    text = "\n".join([
        "J = 1/N sum_i ||x_i - w w^T x_i||^2",
        "= 1/N sum_i ||x_i - alpha^2 u u^T x_i||^2   (w = alpha u)",
        "= 1/N sum_i ||x_i||^2 + (alpha^4 - 2 alpha^2) u^T S u   (definition of S, u^T u = 1)",
        "~ -u^T S u   (alpha fixed, alpha^4 - 2 alpha^2 < 0)",
        "=> argmax_u u^T S u",
    ])
    result = mark("ex2", text)
    assert result.fraction == 1.0, result.feedback
    ex1 = "\n".join([
        "exp(w_c^T z + b_c) / sum_{c'} exp(w_{c'}^T z + b_{c'})",
        "= exp(w_c^T z) / sum_{c'} exp(w_{c'}^T z)   (by assumption b_c = b_{c'})",
        "= exp(norm(z) cos(w_c, z)) / sum_{c'} exp(norm(z) cos(w_{c'}, z))   (definition of inner product)",
        "= exp(cos(w_c, z)/tau) / sum_{c'} exp(cos(w_{c'}, z)/tau)   with tau = 1/||z||",
    ])
    assert mark("ex1", ex1).fraction == 1.0
    # A bracket that is math (an argument, a factor) is kept: dropping it would change the line.
    factor = mark("ex2", replaced(EX2_MODEL, 4, expr=r"\frac{1}{N}\sum_i \|x_i\|^2 + u^\top S u (\alpha^4 - 2\alpha^2)"))
    assert factor.fraction == 1.0, factor.feedback
    slip = mark("ex2", replaced(EX2_MODEL, 4, expr=r"\frac{1}{N}\sum_i \|x_i\|^2 + u^\top S u (\alpha^4 + 2\alpha^2)"))
    assert first_wrong(slip.feedback) == 4, slip.feedback


def test_softmax_of_the_logits_names_the_first_line():
    lines = [("", r"p(c|x) = \operatorname{softmax}(f(x))_c = " + EX1_MODEL[0][1].split("= ", 1)[1])] + EX1_MODEL[1:]
    result = mark("ex1", lines)
    assert result.fraction == 1.0 and "It starts at" in result.feedback, result.feedback


def test_a_wrong_last_line_costs_its_share_and_the_end_not_also_a_penalty():
    """Start and two valid steps, then a wrong last line: one slip, more than half of the steps."""
    wrong_last = replaced(EX1_MODEL, 4, expr=r"\frac{\exp(\tau \cos(w_c, z))}{\sum_{c'} \exp(\tau \cos(w_{c'}, z))}")
    result = mark("ex1", wrong_last)
    assert first_wrong(result.feedback) == 4 and "The last line is not" in result.feedback
    assert 0.45 < result.fraction < 0.7, result.fraction
    # The same slip in the middle, with the right end, costs the penalty on top of its share.
    middle = mark("ex1", replaced(EX1_MODEL, 3, expr=r"\frac{\exp(\tau \cos(w_c, z))}{\sum_{c'} \exp(\tau \cos(w_{c'}, z))}"))
    assert first_wrong(middle.feedback) == 3 and middle.fraction <= 1.0 - 0.7 * 0.3
