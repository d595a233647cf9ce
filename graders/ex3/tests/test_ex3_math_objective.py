"""ex3a.objective (2 P): 1/N Σ‖x_i − f(r(x_i))‖², up to a positive factor; reconstructing the
rotated input (a plain autoencoder) is wrong."""
from __future__ import annotations

import pytest

import graders


def score(answer: str) -> tuple[float, str]:
    item = next(i for i in graders.grader("ex3").grade({"objective": answer}).items if i.id == "ex3a.objective")
    return item.score, item.feedback


def test_rubric_points_and_engine():
    item = graders.grader("ex3").rubric.item("ex3a.objective")
    assert (item.points, item.engine) == (2, "math")


@pytest.mark.parametrize("answer", [
    r"\frac{1}{N}\sum_{i=1}^{N} \|x_i - f(r(x_i))\|^2",
    "1/N sum_i norm(x_i - f(r(x_i)))^2",
    r"J(\theta) = \sum_i \left\| \mathbf{x}_i - f_\theta(r(\mathbf{x}_i)) \right\|_2^2",
    "1/N sum_i norm(f(r(x_i)) - x_i)^2",
    r"\frac{1}{2N}\sum_n \|f(r(x_n)) - x_n\|^2",
])
def test_rotation_invariant_objective_earns_2(answer):
    assert score(answer)[0] == 2


@pytest.mark.parametrize("answer,hint", [
    (r"\frac{1}{N}\sum_i \|r(x_i) - f(r(x_i))\|^2", "plain autoencoder"),
    ("1/N sum_i norm(x_i - f(x_i))^2", "never sees a rotated image"),
    ("1/N sum_i norm(x_i - r(f(x_i)))^2", "does not train"),
    ("-1/N sum_i norm(x_i - f(r(x_i)))^2", "negative factor"),
])
def test_other_objectives_earn_0(answer, hint):
    points, feedback = score(answer)
    assert points == 0
    assert hint in feedback


@pytest.mark.parametrize("answer", [r"\min_\theta \frac{1}{N}\sum_i \|x_i - f_\theta(r(x_i))\|^2",
                                    r"\mathcal{L}(\theta) = \frac{1}{N}\sum_i \|x_i - f_\theta(r(x_i))\|^2"])
def test_objective_with_min_or_named_loss_earns_2(answer):
    assert score(answer)[0] == 2


def test_maximising_the_error_earns_0():
    assert score(r"\max_\theta \frac{1}{N}\sum_i \|x_i - f(r(x_i))\|^2")[0] == 0


@pytest.mark.parametrize("answer", [
    r"\frac{1}{N}\sum_{i=1}^N (x_i - f(r(x_i)))^2",
    r"\frac{1}{N}\sum_i \left(f(r(x_i)) - x_i\right)^2",
    "1/N sum_i (x_i - f(r(x_i)))**2",
])
def test_a_squared_vector_difference_is_read_as_the_squared_norm(answer):
    points, feedback = score(answer)
    assert points == 2, feedback
    assert "‖v‖²" in feedback and (r"\left\|x_{i}" in feedback or r"\left\|f" in feedback)


@pytest.mark.parametrize("answer", [
    r"\frac{1}{N}\sum_i (x_i - f(r(x_i)))^3",
    r"\frac{1}{N}\sum_i x_i^2",  # only (v)² in parentheses is read as a norm
])
def test_other_powers_of_vectors_stay_refused(answer):
    points, feedback = score(answer)
    assert points == 0 and "cannot raise a column vector to a power" in feedback
    assert "‖v‖²" not in feedback


def test_a_squared_vector_is_still_checked_against_the_target():
    points, feedback = score(r"\frac{1}{N}\sum_i (r(x_i) - f(r(x_i)))^2")
    assert points == 0 and "plain autoencoder" in feedback


@pytest.mark.parametrize("answer", [
    r"\mathbb{E}_{i}\left[\|x_i - f(r(x_i))\|^2\right]", r"E_i[\|f(r(x_i)) - x_i\|^2]", r"\mathbb{E}_i \|x_i - f(r(x_i))\|^2",
])
def test_the_mean_over_the_data_as_an_expectation_earns_2(answer):
    points, feedback = score(answer)
    assert points == 2, feedback
    assert r"\mathbb{E}_{i}" in feedback


def test_an_expectation_is_still_checked_and_only_over_a_data_index():
    points, feedback = score(r"\mathbb{E}_i[\|r(x_i) - f(r(x_i))\|^2]")
    assert points == 0 and "plain autoencoder" in feedback
    points, feedback = score(r"\mathbb{E}_r[\|x_i - f(r(x_i))\|^2]")
    assert points == 0 and "over a data index only" in feedback


@pytest.mark.parametrize("answer", ["||x - f(r(x))||^2", r"\|f(r(\mathbf{x})) - \mathbf{x}\|_2^2"])
def test_one_samples_loss_is_read_as_its_mean_and_earns_2(answer):
    got, feedback = score(answer)
    assert got == 2 and "one sample's loss" in feedback, feedback


@pytest.mark.parametrize("answer", ["||r(x) - f(r(x))||^2", "||x - f(x)||^2", "||x - f(r(x_i))||^2"])
def test_one_samples_wrong_loss_still_earns_0(answer):
    assert score(answer)[0] == 0


@pytest.mark.parametrize("answer", [r"\frac{1}{N}\sum_i \|x_i - f(r(x_i))\|", "sum_i norm(f(r(x_i)) - x_i)"])
def test_the_unsquared_error_with_the_right_target_is_partly_right(answer):
    got, feedback = score(answer)
    assert got == 1.5 and "Partly right" in feedback, feedback


def test_the_unsquared_error_of_the_plain_autoencoder_is_not_partly_right():
    assert score(r"\frac{1}{N}\sum_i \|r(x_i) - f(r(x_i))\|")[0] == 0


@pytest.mark.parametrize("answer,expected", [
    (r"\frac{1}{N}\sum_i \sum_j (x_{ij} - f(r(x_i))_j)^2", 2),
    (r"\frac{1}{N}\sum_i \sum_{j=1}^d (f(r(x_i))_j - x_{ij})^2", 2),
    (r"\frac{1}{N}\sum_i \sum_j (x_{ij} - f(x_i)_j)^2", 0),
    (r"\frac{1}{N}\sum_i \sum_j (x_{ij} - f(r(x_i))_k)^2", 0),
])
def test_the_objective_by_components_of_the_output(answer, expected):
    assert score(answer)[0] == expected
