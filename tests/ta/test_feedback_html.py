"""The `feedback_html` filter: `$…$` segments of grader feedback become MathML, everything else is
escaped text, and nothing a student can get into feedback becomes live markup."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from app.feedback_html import feedback_html


class _Tags(HTMLParser):
    """The elements and attributes a browser's parser would create from the HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(name for name, _ in attrs)


MATHML_TAGS = {"math", "mrow", "mi", "mn", "mo", "mfrac", "msub", "msup", "msubsup", "mover", "mspace", "mtext"}


def test_the_engines_echo_becomes_mathml_and_the_text_stays():
    out = feedback_html(r"Read as $\frac{1}{\left\|z\right\|}$. ✓ Correct.")
    assert isinstance(out, Markup)
    assert out.startswith('Read as <math display="inline">') and out.endswith("</math>. ✓ Correct.")
    assert "<mfrac><mrow><mn>1</mn></mrow>" in out and "<mi>z</mi>" in out
    assert "$" not in out and "\\" not in out


def test_a_derivation_keeps_one_line_per_step():
    feedback = (r"Line 1: read as $\frac{1}{N} \cdot \sum_{i} \left[x_{i}\right]$" "\n"
                r"Line 2 (=): read as $\arg\max_{u} u^\top \cdot S \cdot u$  ✓" "\n✗ The last line is not the result.")
    out = feedback_html(feedback)
    assert out.count("<math") == 2 and out.count("\n") == 2
    assert "<mo>arg</mo>" in out and "\\arg" not in out  # latex2mathml has no \arg of its own
    assert out.splitlines()[2] == "✗ The last line is not the result."


@pytest.mark.parametrize("feedback", [
    "Unknown symbol <script>alert(1)</script>.",
    'Unknown symbol "><img src=x onerror=alert(1)>.',
    r"Read as $\text{<img src=x onerror=alert(1)>}$.",
    r"Read as $\text{<b>bold</b>} + x$.",
    r"Read as $x</mi></math><script>alert(1)</script>$.",
    r"Read as $\href{javascript:alert(1)}{x}$.",
])
def test_student_text_in_feedback_stays_inert(feedback):
    out = feedback_html(feedback)
    parsed = _Tags(str(out))
    assert set(parsed.tags) <= MATHML_TAGS, parsed.tags
    assert not any(a.startswith("on") or a in ("href", "src", "style") for a in parsed.attributes)
    assert "<script" not in out and "<img" not in out and "<b>" not in out


def test_markup_inside_math_falls_back_to_the_escaped_source():
    out = feedback_html(r"Read as $\text{<img src=x onerror=alert(1)>}$. ✗")
    assert out == r"Read as $\text{&lt;img src=x onerror=alert(1)&gt;}$. ✗"


def test_latex_the_converter_cannot_read_shows_its_source():
    out = feedback_html(r"Read as $\left( x$ then $x^$ then $y$.")
    assert out.startswith(r"Read as $\left( x$ then $x^$ then <math") and out.count("<math") == 1
    assert feedback_html(r"Read as $a & b$.") == r"Read as $a &amp; b$."


def test_plain_and_missing_feedback():
    assert feedback_html("Not answered.") == "Not answered."
    assert feedback_html("costs $5 & more") == "costs $5 &amp; more"  # a lone $ is text
    assert feedback_html(None) == ""
