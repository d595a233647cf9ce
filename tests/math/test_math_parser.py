"""The whitelisted parser: notations it must read (and how), and what it must refuse."""
from __future__ import annotations

import pytest

from graders.engines.math.lines import parse_derivation, parse_expression
from graders.engines.math.parser import Vocabulary
from graders.engines.math.render import latex
from graders.engines.math.tree import Add, Div, MathError, Mul, Norm, Num, Pow, Sum, Sym, Transpose

VOCAB = Vocabulary(
    symbols=frozenset("z w b C tau x N alpha u S".split()),
    functions=frozenset({"f", "r"}),
    indices=frozenset({"i", "j", "c", "c'"}),
)


def read(text: str):
    return parse_expression(text, VOCAB)[1]


@pytest.mark.parametrize("text", [
    "1/norm(z)", r"\frac{1}{\|z\|}", r"1/\lVert z\rVert", r"\|z\|^{-1}", "norm(z)^(-1)", "1/||z||",
    r"\frac{1}{\left\| \mathbf{z} \right\|_2}", r"\tau = 1/\|z\|", r"\dfrac{1}{\|\boldsymbol{z}\|}", "1/‖z‖",
])
def test_inverse_norm_notations(text):
    tree = read(text)
    assert Norm(Sym("z")) in _walk(tree)
    assert isinstance(tree, Div) or (isinstance(tree, Pow) and latex(tree.exp) == "-1")


def test_implicit_products_read_as_a_ta_does():
    assert read("1/2 alpha") == Mul(Div(Num(1.0, "1"), Num(2.0, "2")), Sym("alpha"))
    tree = read("1/N sum_i norm(x_i)^2 + alpha")
    assert isinstance(tree, Add)
    assert tree.terms[1] == Sym("alpha")  # the sum binds the product after it, not the + term
    assert isinstance(tree.terms[0], Mul) and isinstance(tree.terms[0].right, Sum)
    assert read(r"2\alpha^2 u^\top S u") == Mul(Mul(Mul(Mul(Num(2.0, "2"), Pow(Sym("alpha"), Num(2.0, "2"))), Transpose(Sym("u"))), Sym("S")), Sym("u"))
    assert read("w w^T x_i") == Mul(Mul(Sym("w"), Transpose(Sym("w"))), Sym("x", "i"))


@pytest.mark.parametrize("text", ["u^T S u", r"u^\top S u", "u' S u", r"u^{\top} S u", r"u^\intercal S u", r"\mathbf{u}^\mathsf{T} S \mathbf{u}", "uᵀSu"])
def test_transpose_marks(text):
    tree = read(text)
    assert Transpose(Sym("u")) in _walk(tree)


def _walk(tree):
    from graders.engines.math.tree import walk
    return list(walk(tree))


def test_sums_and_indices():
    tree = read(r"\sum_{i=1}^{N} \mathbf{x}_i^\top \mathbf{x}_i")
    assert isinstance(tree, Sum) and tree.index == "i" and tree.upper == Sym("N")
    assert read(r"\sum_{c'} \exp(w_{c'}^\top z)").index == "c'"
    assert read("sum_{c'} exp(w_{c'}^T z)").index == "c'"


def test_labels_are_not_symbols():
    assert read("H = 0") == Num(0.0, "0")
    assert read(r"\alpha^* = 1") == Num(1.0, "1")
    assert read(r"J(\theta) = \|z\|") == Norm(Sym("z"))
    lines = parse_derivation([{"rel": "", "expr": r"p(c|\mathbf{x}) \propto \exp(w_c^\top z)"}], VOCAB)
    assert lines[0].label is not None and lines[0].start_rel == "∝"


def test_relations_in_one_string():
    lines = parse_derivation("J &= \\|z\\|^2 \\\\ &\\simeq 2\\|z\\|^2 \\\\ &~ z^T z \\\\ &prop z^Tz \\\\ &=> argmax_u u^T S u", VOCAB)
    assert [l.rel for l in lines] == ["", "≃", "≃", "∝", "⇒"]
    assert lines[-1].objective.kind == "max" and lines[-1].objective.variables == ("u",)


@pytest.mark.parametrize("text,fragment", [
    ("__import__('os')", "at character 1"),
    (r"\input{/etc/passwd}", "'\\input' at character 1"),
    ("lambda x: x", "at character"),
    ("9^9^9^9", "power of a power"),
    ("2^{999}", "too large"),
    ("exec(1)", "unknown symbol 'exec'"),
    ("z # z", "'#' at character 3"),
    ("np.exec(z)", "unknown symbol 'exec'"),
    ("(" * 60 + "z" + ")" * 60, "nested too deeply"),
    ("1/norm(z", "expected ')'"),
    (r"\sqrt[3]{z}", "\\sqrt[n]"),
    (r"\int z", "'\\int' at character 1"),
    ("sum x_i", "needs its index"),
    ("x_q", "'q' is not an index"),
])
def test_refusals_name_what_and_where(text, fragment):
    with pytest.raises(MathError) as info:
        read(text)
    assert fragment in str(info.value)


def test_length_limit():
    with pytest.raises(MathError, match="too"):
        read("z+" * 7000 + "z")


def test_the_echo_shows_the_reading():
    assert latex(read("1/2 alpha")) == r"\frac{1}{2} \cdot \alpha"
    assert latex(read(r"\|x_i - w w^\top x_i\|^2")) == r"\left\|x_{i} - w \cdot w^\top \cdot x_{i}\right\|^{2}"


def test_euclidean_norm_subscript_before_or_after_the_square():
    assert read(r"\|z\|_2^2") == read(r"\|z\|^2_2") == Pow(Norm(Sym("z")), Num(2.0, "2"))
    with pytest.raises(MathError):
        read(r"\|z\|_1")


@pytest.mark.parametrize("text", ["1/‖z‖₂", "1/∥z∥", "½ ⟨z, z⟩", "α uᵀSu", "(1/N) Σ_i ‖x_i − w wᵀ x_i‖²"])
def test_pasted_unicode_is_read(text):
    read(text)


@pytest.mark.parametrize("text,base", [(r"\log_2 C", "2"), ("log_2(C)", "2"), (r"\log_{2} C", "2"), (r"\log_{10}(C)", "10")])
def test_log_to_a_numeric_base(text, base):
    from graders.engines.math.tree import Func

    tree = read(text)
    assert tree == Func("logb", (Sym("C"), Num(float(base), base)))
    assert latex(tree) == rf"\log_{{{base}}}\left(C\right)"


@pytest.mark.parametrize("text", [r"\log_e C", r"\ln C", "log(C)"])
def test_natural_log_notations(text):
    from graders.engines.math.tree import Func

    assert read(text) == Func("log", (Sym("C"),))


@pytest.mark.parametrize("text,message", [
    (r"\log_x C", "base of the logarithm"), (r"\log_1 C", "base of the logarithm"), (r"\ln_2 C", "sub- or superscript"),
    (r"\log^2 C", "sub- or superscript"),
])
def test_bad_log_bases_are_refused(text, message):
    with pytest.raises(MathError, match=message):
        read(text)


def test_component_indices_are_read_as_indices():
    vocab = Vocabulary(symbols=VOCAB.symbols | {"d"}, functions=VOCAB.functions, indices=VOCAB.indices,
                       components=frozenset({"j", "k", "l"}))
    tree = parse_expression(r"\sum_{l=1}^{d} z_l^2", vocab)[1]
    assert tree == Sum("l", Pow(Sym("z", "l"), Num(2.0, "2")), Num(1.0, "1"), Sym("d"))
    with pytest.raises(MathError, match="not a summation index"):
        read(r"\sum_l z_l^2")  # l is not a component index in VOCAB


def test_an_expectation_over_an_index_is_a_mean():
    tree = read(r"\mathbb{E}_{i}[\|x_i\|^2] + 1")
    assert tree == Add((Sum("i", Pow(Norm(Sym("x", "i")), Num(2.0, "2")), mean=True), Num(1.0, "1")))
    assert read(r"E_i \|x_i\|^2 \alpha") == Sum("i", Mul(Pow(Norm(Sym("x", "i")), Num(2.0, "2")), Sym("alpha")), mean=True)
    assert read(r"E_i \|x_i\|^2") != read(r"\sum_i \|x_i\|^2")


@pytest.mark.parametrize("text", [r"\frac{1}{\|z\|}.", "1 / norm(z).", r"\frac{1}{\|z\|} \; .", r"\frac{1}{\|z\|}.$"])
def test_a_full_stop_ending_the_answer_is_punctuation(text):
    assert read(text) == read(r"\frac{1}{\|z\|}")


def test_a_full_stop_inside_the_answer_is_still_refused():
    with pytest.raises(MathError, match="'.' at character"):
        read("1 . z")
    assert read("0.5") == Num(0.5, "0.5")
    lines = parse_derivation("J = \\|z\\|^2 . \\\\ = z^T z.", VOCAB)
    assert [l.rel for l in lines] == ["", "="]


@pytest.mark.parametrize("text", [r"\tau := \frac{1}{\|z\|}", r"\tau \coloneqq 1/\|z\|"])
def test_a_definition_with_colon_equals_is_a_label(text):
    assert read(text) == read(r"\frac{1}{\|z\|}")


@pytest.mark.parametrize("text,value", [
    (r"H \to 0", "0"), ("H -> log(C)", "log(C)"), (r"\lim_{\tau \to 0} H = 0", "0"),
    (r"\lim_{\tau\to\infty} H[p] = \log C", r"\log C"), (r"H \rightarrow \log C", "log C"),
])
def test_a_limit_names_its_value(text, value):
    assert read(text) == read(value)


@pytest.mark.parametrize("text", ["0 -> 1", r"2 \to \frac{1}{2}"])
def test_a_limit_between_two_values_is_refused(text):
    with pytest.raises(MathError, match="not an equation"):
        read(text)


def test_a_limit_arrow_is_no_step_of_a_derivation():
    with pytest.raises(MathError):
        parse_derivation([{"rel": "", "expr": "z"}, {"rel": r"\to", "expr": "z"}], VOCAB)


@pytest.mark.parametrize("text", ["1 (since α>0)", r"1 \quad \text{since } \alpha > 0", r"\alpha^* = 1 \text{ (positive root)}", "1 (optimum)"])
def test_a_value_with_a_justification_is_the_value(text):
    from graders.engines.math.tree import Num

    vocab = Vocabulary(symbols=frozenset({"alpha", "u", "S"}))
    _, tree = parse_expression(text, vocab)
    assert isinstance(tree, Num) and tree.value == 1


def test_a_bracket_of_math_at_the_end_is_not_a_remark():
    vocab = Vocabulary(symbols=frozenset({"alpha", "u", "S"}))
    _, tree = parse_expression("u^T S u (alpha^2 + 1)", vocab)
    assert "alpha" in latex(tree)
    # a bracket after an operator or a function is its operand, even at the end
    quotient = parse_expression("1/(u^T S u)", vocab)[1]
    assert isinstance(quotient, Div) and "S" in latex(quotient.den)
    with pytest.raises(MathError):
        parse_expression("u^T S u (alpha^2 + beta)", vocab)  # no prose, no relation: math, so beta is an unknown symbol


@pytest.mark.parametrize("text", [
    "1/Norm[z]", "Norm[z]^-1", "1/np.linalg.norm(z)", "1/numpy.linalg.norm(z)", r"\frac{1}{\left\Vert {\bf z} \right\Vert}",
])
def test_numpy_mathematica_and_old_latex_norms(text):
    test_inverse_norm_notations(text)


def test_numpy_transpose_and_matrix_product_read_as_the_formula():
    assert read("u.T @ S @ u") == read(r"u^\top \cdot S \cdot u")
    assert read("z.T @ z") == read(r"z^T \cdot z")
    assert read("alpha**2") == read("alpha^2")
    assert read("Log[C]") == read("log(C)")


def test_a_mathematica_call_bracket_is_matched_not_any_bracket():
    assert read("Norm[z]^2") == read("norm(z)^2")
    with pytest.raises(MathError):
        read("Norm[z")


def test_step_numbers_spacing_and_proof_marks_are_layout():
    plain = parse_derivation("J = \\|z\\|^2 \n= z^T z", VOCAB)
    for text in (
        "(1) J = \\|z\\|^2 \n(2) = z^T z",
        "1. J = \\|z\\|^2 \n2. = z^T z \\qquad \\blacksquare",
        "J = \\|z\\|^2 \\\\[4pt] \n= z^T z \nQED",
        "J = \\|z\\|^2 \n\n= z^T z ∎",
    ):
        assert [(l.rel, l.tree) for l in parse_derivation(text, VOCAB)] == [(l.rel, l.tree) for l in plain]


def test_a_number_starting_a_formula_is_not_a_step_number():
    assert read("2 z^T z") == read("2 z^T z")
    assert latex(read("1. ")) == "1"
    assert read("(1) + z^T z") == read("1 + z^T z")


def test_numpy_dot_is_the_inner_product():
    assert read("np.dot(u, S @ u)") == read(r"u^T (S \cdot u)")
    assert read("dot(z, z)") == read("z^T z")
    with pytest.raises(MathError, match="two arguments"):
        read("dot(z)")
