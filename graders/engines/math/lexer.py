"""Tokens of the whitelisted math language: plain ASCII and a LaTeX subset.

Anything not listed here is refused with a message that names it and where it is."""
from __future__ import annotations

import re
from dataclasses import dataclass

from graders.engines.math.tree import MathError

MAX_CHARS = 12000
MAX_TOKENS = 4000

GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
    "pi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Sigma Phi Psi Omega".split()
)

# Unicode a student may paste, mapped to the LaTeX it stands for.
UNICODE = {
    "α": r"\alpha ", "τ": r"\tau ", "θ": r"\theta ", "λ": r"\lambda ", "σ": r"\sigma ", "ϕ": r"\phi ",
    "‖": r"\| ", "⊤": r"\top ", "ᵀ": "^T ", "∑": r"\sum ", "Σ": r"\sum ", "√": r"\sqrt ", "·": r"\cdot ",
    "⋅": r"\cdot ", "×": r"\cdot ", "−": "-", "–": "-", "≃": r"\simeq ", "∝": r"\propto ", "⇒": r"\Rightarrow ",
    "⟹": r"\Rightarrow ", "²": "^2 ", "³": "^3 ", "⁴": "^4 ", "⁻¹": "^{-1} ", "’": "'", "′": "'", "π": r"\pi ",
    "\u00a0": " ", "≈": r"\approx ", "∥": r"\| ", "∣": "|", "₂": "_2 ", "ᵢ": "_i ", "½": "(1/2)", "≤": r"\leq ",
    "≥": r"\geq ", "∈": r"\in ", "ℝ": "R", "⟨": r"\langle ", "⟩": r"\rangle ", "ε": r"\epsilon ", "φ": r"\phi ",
    "ˆ": "^", "∎": "", "□": "",
}

# LaTeX commands that only lay out text: dropped with their argument, or alone.
SKIP_WITH_GROUP = frozenset({"text", "mbox", "textrm", "textit", "textbf", "tag", "label", "intertext", "begin", "end", "hspace", "vspace"})
SKIP_ALONE = frozenset({
    "quad", "qquad", ",", ";", ":", "!", " ", "displaystyle", "textstyle", "limits", "nolimits", "nonumber", "notag",
    # old-style font switches (`{\bf u}`) and end-of-proof marks
    "bf", "rm", "it", "boldmath", "blacksquare", "square", "Box", "qed", "qedhere",
})
# Words that only close a proof (`QED`): dropped.
PROOF_END_WORDS = frozenset({"QED", "qed", "Qed"})
# NumPy / Mathematica spellings of the functions the language has (`np.linalg.norm`, `Norm[z]`).
FOREIGN_FUNCTIONS = {"Norm": "norm", "Log": "log", "Sqrt": "sqrt", "Exp": "exp", "Cos": "cos", "Abs": "abs"}
_NUMPY_PREFIX = re.compile(r"(?:np|numpy)\.(?:linalg\.)?(?=[A-Za-z])")
# A step number at the start of a row (`(1) p = ...`, `2. = ...`, `3) ...`): not part of the math;
# `(1) + z` is a formula, so an operator after it keeps the number.
_STEP_NUMBER = re.compile(r"(?:\([0-9]{1,2}\)|[0-9]{1,2}[.)])[ \t]+(?=[^\s+\-*/^_])")
# The spacing argument of a row break: `\\[4pt]`.
_ROW_SPACING = re.compile(r"[ \t]*\[[ \t]*-?[0-9.]+[ \t]*(?:pt|em|ex|mm|cm|in|bp|mu)[ \t]*\]")
SIZE_PREFIX = frozenset({"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "middle"})
RELATION_COMMANDS = {
    "propto": "∝", "simeq": "≃", "sim": "≃", "Rightarrow": "⇒", "implies": "⇒", "Longrightarrow": "⇒",
    "approx": "≈", "equiv": "≡", "coloneqq": "=",
    # `H \to \log C`, `\lim_{\tau \to 0} H`: a limit, read by parse_expression as naming its value.
    "to": "→", "rightarrow": "→", "longrightarrow": "→", "leq": "≤", "geq": "≥", "le": "≤", "ge": "≥", "neq": "≠",
}


@dataclass(frozen=True)
class Token:
    kind: str  # num name cmd op ( ) { } [ ] norm norml normr bar barl barr langle rangle rel row amp stop note
    text: str
    pos: int  # 0-based character offset in the normalised text


def where(pos: int) -> str:
    return f"at character {pos + 1}"


def normalise(text: str) -> str:
    for char, latex in UNICODE.items():
        text = text.replace(char, latex)
    return text


DIGITS = "0123456789"
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+")
_WORD = re.compile(r"[A-Za-z]+")
_COMMAND = re.compile(r"\\([A-Za-z]+\*?|.)", re.S)
# A full stop that ends a row (`\frac{1}{\|z\|}.`, `= 1 \; .`): sentence punctuation, not math.
_ROW_END = re.compile(r"[ \t\r$]*(?:\\\\|\n|$)")


OPERATOR_NAMES = frozenset({"mathrm", "operatorname", "textrm"})
# `... \text{s.t.} \|u\| = 1`: a constraint the exercise already declares; the rest is dropped.
CONSTRAINT_WORDS = frozenset({"s.t.", "st", "s.t", "subjectto", "suchthat", "where", "with", "for"})
OPT_NAMES = {"argmax": "argmax", "argmin": "argmin", "max": "max", "min": "min"}
# Words that start a justification (`\\text{by assumption } b_c = b_{c'}`, `(since α > 0)`).
JUSTIFICATION_WORDS = frozenset({
    "by", "since", "because", "as", "using", "use", "def", "definition", "assumption", "assume", "hence",
    "thus", "therefore", "so", "and", "if", "iff", "given", "from", "note", "see", "with", "where", "for",
})
_TEXT_WORD = re.compile(r"[A-Za-z]{2,}")


def _is_prose(inner: str) -> bool:
    """A \\text{...} that is a remark, not an operator name: it has a bracket, two words or a
    justification word (`(definition of the inner product)`, `by assumption `)."""
    words = _TEXT_WORD.findall(inner)
    return any(ch in inner for ch in "()") or len(words) >= 2 or any(w.lower() in JUSTIFICATION_WORDS for w in words)


def _group_word(text: str, i: int) -> str:
    """The letters of a {...} group at i, without spacing commands: `{arg\\,max}` -> `argmax`."""
    end = _skip_group(text, i)
    inner = text[i:end]
    for spacing in ("\\,", "\\;", "\\!", "\\ ", " ", "{", "}"):
        inner = inner.replace(spacing, "")
    return inner


def _skip_group(text: str, i: int) -> int:
    """Skip whitespace and one balanced {...} group starting at i; return the index after it."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text) or text[i] != "{":
        return i
    level = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            level += 1
        elif text[j] == "}":
            level -= 1
            if level == 0:
                return j + 1
    raise MathError(f"unbalanced '{{' {where(i)}")


def _matching_bracket(text: str, i: int) -> int:
    """The index of the `]` closing the `[` at i."""
    level = 0
    for j in range(i, len(text)):
        level += text[j] == "["
        level -= text[j] == "]"
        if level == 0:
            return j
    raise MathError(f"unbalanced '[' {where(i)}")


def tokenize(text: str) -> list[Token]:
    text = normalise(text)
    if len(text) > MAX_CHARS:
        raise MathError(f"the answer is too long ({len(text)} characters; at most {MAX_CHARS})")
    tokens: list[Token] = []
    i, n = 0, len(text)
    size_side = ""  # "left" / "right" / "" after a \left, \right, \big...
    call_brackets: set[int] = set()  # positions of `[`/`]` of a Mathematica call (`Norm[z]`): read as ( )
    while i < n:
        if len(tokens) > MAX_TOKENS:
            raise MathError("the answer has too many symbols")
        ch = text[i]
        if ch in " \t\r$":
            i += 1
            continue
        if ch == "\n":
            tokens.append(Token("row", "\n", i))
            i += 1
            continue
        if not tokens or tokens[-1].kind == "row":
            step = _STEP_NUMBER.match(text, i)
            if step:
                i = step.end()
                continue
        side, size_side = size_side, ""
        if ch == "\\":
            m = _COMMAND.match(text, i)
            if m is None:
                raise MathError(f"a lone backslash {where(i)}")
            name, start, i = m.group(1), i, m.end()
            if name == "\\":
                tokens.append(Token("row", "\\\\", start))
                spacing = _ROW_SPACING.match(text, i)
                i = spacing.end() if spacing else i
            elif name in SIZE_PREFIX:
                size_side = "left" if name.endswith("l") or name == "left" else "right" if name.endswith("r") or name == "right" else "mid"
                if text[i:i + 1] == ".":  # \left. is an invisible delimiter
                    i += 1
                    size_side = ""
            elif name in SKIP_ALONE:
                pass
            elif name in SKIP_WITH_GROUP | OPERATOR_NAMES and _group_word(text, i) in OPT_NAMES:
                # \text{argmax}, \mathrm{arg\,max}, \operatorname{argmin}: an optimisation word
                tokens.append(Token("name", OPT_NAMES[_group_word(text, i)], start))
                i = _skip_group(text, i)
            elif name in SKIP_WITH_GROUP and _group_word(text, i).lower() in CONSTRAINT_WORDS:
                tokens.append(Token("stop", "s.t.", start))
                i = _skip_group(text, i)
            elif name in SKIP_WITH_GROUP and name not in ("begin", "end", "tag", "label") and _is_prose(text[i:_skip_group(text, i)]):
                # a justification after the math of a row; lines.py drops it with what follows
                tokens.append(Token("note", "text", start))
                i = _skip_group(text, i)
            elif name in SKIP_WITH_GROUP:
                i = _skip_group(text, i)
            elif name in ("|", "Vert"):
                tokens.append(Token({"left": "norml", "right": "normr"}.get(side, "norm"), "\\|", start))
            elif name == "lVert":
                tokens.append(Token("norml", "\\|", start))
            elif name == "rVert":
                tokens.append(Token("normr", "\\|", start))
            elif name in ("vert", "mid"):
                tokens.append(Token({"left": "barl", "right": "barr"}.get(side, "bar"), "|", start))
            elif name == "lvert":
                tokens.append(Token("barl", "|", start))
            elif name == "rvert":
                tokens.append(Token("barr", "|", start))
            elif name == "{":
                tokens.append(Token("(", "(", start))
            elif name == "}":
                tokens.append(Token(")", ")", start))
            elif name in ("langle", "rangle"):
                tokens.append(Token(name, name, start))
            elif name in ("cdot", "times", "ast", "bullet"):
                tokens.append(Token("op", "cdot" if name != "ast" else "*", start))
            elif name == "prime":
                tokens.append(Token("op", "'", start))
            elif name in RELATION_COMMANDS:
                tokens.append(Token("rel", RELATION_COMMANDS[name], start))
            elif name.isalpha() or name.rstrip("*").isalpha():
                tokens.append(Token("cmd", name.rstrip("*"), start))
            else:
                raise MathError(f"'\\{name}' {where(start)} is not part of the accepted notation")
            continue
        if ch == "|":
            if text.startswith("||", i) and not side:
                tokens.append(Token("norm", "||", i))
                i += 2
            else:
                tokens.append(Token({"left": "barl", "right": "barr"}.get(side, "bar"), "|", i))
                i += 1
            continue
        if ch in DIGITS or (ch == "." and text[i + 1:i + 2] in DIGITS and text[i + 1:i + 2]):
            m = _NUMBER.match(text, i)
            assert m is not None
            tokens.append(Token("num", m.group(0), i))
            i = m.end()
            continue
        constraint = re.match(r"s\.t\.|subject\s+to\b", text[i:i + 16])
        if constraint:
            tokens.append(Token("stop", "s.t.", i))
            i += constraint.end()
            continue
        numpy = _NUMPY_PREFIX.match(text, i)
        if numpy:
            i = numpy.end()
            continue
        if ch == "." and text[i + 1:i + 2] == "T" and not text[i + 2:i + 3].isalnum() and tokens:
            tokens.append(Token("op", "^", i))  # NumPy `u.T`: a transpose
            tokens.append(Token("name", "T", i + 1))
            i += 2
            continue
        if ch == "@":
            tokens.append(Token("op", "cdot", i))  # NumPy matrix product
            i += 1
            continue
        if ch.isalpha() and ch.isascii():
            m = _WORD.match(text, i)
            assert m is not None
            word = m.group(0)
            if word in PROOF_END_WORDS:
                i = m.end()
                continue
            if word in FOREIGN_FUNCTIONS and text[m.end():m.end() + 1] in "[(":
                word = FOREIGN_FUNCTIONS[word]
                if text[m.end()] == "[":
                    call_brackets.update((m.end(), _matching_bracket(text, m.end())))
            tokens.append(Token("rel", "∝", i) if word == "prop" else Token("name", word, i))
            i = m.end()
            continue
        if ch == "." and _ROW_END.match(text, i + 1):
            i += 1
            continue
        if text.startswith(":=", i) or text.startswith("->", i):
            tokens.append(Token("rel", "=" if ch == ":" else "→", i))
            i += 2
            continue
        if text.startswith("=>", i) or text.startswith("==>", i):
            step = 3 if text.startswith("==>", i) else 2
            tokens.append(Token("rel", "⇒", i))
            i += step
            continue
        if ch == "=":
            tokens.append(Token("rel", "=", i))
            i += 1
            continue
        if ch in "<>":
            tokens.append(Token("rel", "≤" if ch == "<" else "≥", i))
            i += 1
            continue
        if ch == "~":
            tokens.append(Token("rel", "≃", i))
            i += 1
            continue
        if ch in "[]" and i in call_brackets:
            ch = "(" if ch == "[" else ")"
        if ch in "()[]{}":
            if side == "left" and ch in ")]":
                ch = "(" if ch == ")" else "["
            elif side == "right" and ch in "([":
                ch = ")" if ch == "(" else "]"
            tokens.append(Token(ch, ch, i))
            i += 1
            continue
        if ch == "*" and text.startswith("**", i):
            tokens.append(Token("op", "^", i))
            i += 2
            continue
        if ch in "+-*/^_',:":
            tokens.append(Token("op", ch, i))
            i += 1
            continue
        if ch == "&":
            tokens.append(Token("amp", "&", i))
            i += 1
            continue
        raise MathError(f"'{ch}' {where(i)} is not part of the accepted notation")
    return tokens
