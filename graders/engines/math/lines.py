"""From an answer (one expression, a list of derivation lines, or one string of `align` rows) to
parsed lines: relation to the previous line, optional argmax/argmin, tree.

A leading `J =`, `p(c|x) =`, `\\tau =` or `\\alpha^* =` names what a line equals: a label, not a
symbol, so it is dropped."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graders.engines.math.lexer import GREEK, JUSTIFICATION_WORDS, Token, tokenize, where
from graders.engines.math.parser import FUNCTION_WORDS, OPT_WORDS, WRAPPERS, Objective, Vocabulary, parse_tokens
from graders.engines.math.tree import MathError, Node

MAX_LINES = 40
RELATIONS = {"=": "=", "∝": "∝", "≃": "≃", "⇒": "⇒"}
REFUSED_RELATIONS = {
    "≤": "an inequality is not a step of a derivation",
    "≥": "an inequality is not a step of a derivation",
    "≈": "'≈' (approximately) is not a relation of a derivation: use =, \\propto or \\simeq",
    "≡": "'≡' is not a relation of a derivation: use =",
}


# `\\operatorname{softmax}(f(x))_c = ...`: names the line like `p(c|x) =`.
LABEL_WORDS = frozenset({"softmax"})


@dataclass(frozen=True)
class Line:
    rel: str  # "" (first line), "=", "∝", "≃", "⇒"
    objective: Objective | None
    tree: Node | None  # None when the line could not be read; `error` says why
    label: str | None
    start_rel: str  # the relation between the label and the expression ("=" when none)
    error: str | None = None
    definition: str | None = None  # `\Rightarrow \tau = 1/\|z\|`: the symbol this line defines
    names_start: bool = False  # a first line that is only a label (`p(c|x)`, `J(w)`): the start quantity


def _label_symbol(tokens: list[Token], vocab: Vocabulary) -> str | None:
    """The declared symbol a label names (τ, also written in bold), if it is one."""
    names = [t.text for t in tokens if t.kind in ("name", "cmd") and t.text not in WRAPPERS]
    if len(names) == 1 and names[0] in vocab.symbols and all(t.kind in ("name", "cmd", "{", "}") for t in tokens):
        return names[0]
    return None


def _text(tokens: list[Token]) -> str:
    return " ".join(t.text for t in tokens)


def _split(tokens: list[Token], kinds: set[str]) -> list[tuple[Token | None, list[Token]]]:
    """Split at top-level tokens of `kinds`; each piece keeps the token that started it."""
    pieces: list[tuple[Token | None, list[Token]]] = [(None, [])]
    level = 0
    for tok in tokens:
        if tok.kind in ("(", "[", "{", "norml", "barl", "langle"):
            level += 1
        elif tok.kind in (")", "]", "}", "normr", "barr", "rangle"):
            level = max(0, level - 1)
        if level == 0 and tok.kind in kinds:
            pieces.append((tok, []))
        else:
            pieces[-1][1].append(tok)
    return pieces


def _is_label(tokens: list[Token], vocab: Vocabulary) -> bool:
    """`J`, `J(w)`, `p(c|x)`, `\\tau`, `\\alpha^*`, `H[p]`, optionally after argmin_{...} or
    lim_{...}: a name
    for the line, not part of its value."""
    toks = [t for t in tokens if t.kind != "amp"]
    i = 0

    def skip_group(j: int, open_kind: str, close_kind: str) -> int:
        level = 0
        for k in range(j, len(toks)):
            if toks[k].kind == open_kind:
                level += 1
            elif toks[k].kind == close_kind:
                level -= 1
                if level == 0:
                    return k + 1
        return -1

    if i < len(toks) and toks[i].text in {*OPT_WORDS, "arg", "lim"}:
        i += 2 if toks[i].text == "arg" else 1
        if i < len(toks) and toks[i].text == "_":
            i += 1
            i = skip_group(i, "{", "}") if i < len(toks) and toks[i].kind == "{" else i + 1
    if i < 0 or i >= len(toks):
        return False
    head = toks[i]
    if head.kind == "cmd" and head.text in WRAPPERS and i + 3 < len(toks) and toks[i + 1].kind == "{":
        head = toks[i + 2]
        i += 3
    if not (head.kind == "name" and (len(head.text) <= 3 or head.text in GREEK or head.text in LABEL_WORDS) or head.kind == "cmd" and head.text in GREEK):
        return False
    if head.kind == "name" and head.text in vocab.functions:
        return False
    i += 1
    while i < len(toks):
        tok = toks[i]
        if tok.text == "_" and i + 1 < len(toks):
            i = skip_group(i + 1, "{", "}") if toks[i + 1].kind == "{" else i + 2
        elif tok.text == "^" and i + 1 < len(toks):
            nxt = toks[i + 1]
            if nxt.text in ("*", "star", "ast") or nxt.kind == "{" and i + 3 < len(toks) and toks[i + 2].text in ("*", "star", "ast"):
                i = i + 2 if nxt.kind != "{" else skip_group(i + 1, "{", "}")
            else:
                return False
        elif tok.text == "*" and i == len(toks) - 1:
            i += 1
        elif tok.kind in ("(", "["):
            i = skip_group(i, tok.kind, ")" if tok.kind == "(" else "]")
        else:
            return False
        if i < 0:
            return False
    return True


def _relation(tok: Token | None) -> str:
    if tok is None:
        return ""
    if tok.text in REFUSED_RELATIONS:
        raise MathError(f"{REFUSED_RELATIONS[tok.text]} ({where(tok.pos)})")
    if tok.text not in RELATIONS:
        raise MathError(f"'{tok.text}' {where(tok.pos)} is not a relation of a derivation")
    return RELATIONS[tok.text]


def _segments(rel_tokens: list[Token], tokens: list[Token]) -> list[tuple[str, list[Token]]]:
    """One row (or one list entry) as (relation, tokens) pieces; a leading relation given
    separately (the `rel` field) applies to the first piece."""
    pieces = _split(tokens, {"rel"})
    out: list[tuple[str, list[Token]]] = []
    carried = ""
    if rel_tokens:
        carried = _relation(rel_tokens[0])
        pieces[0] = (None, rel_tokens[1:] + pieces[0][1])
    for tok, toks in pieces:
        rel = _relation(tok) if tok is not None else carried
        toks = [t for t in toks if t.kind != "amp"]
        if not toks:
            if tok is not None:
                carried = rel
            continue
        out.append((rel, toks))
        carried = ""
    return out


def _build(rows: list[list[tuple[str, list[Token]]]], vocab: Vocabulary) -> list[Line]:
    lines: list[Line] = []
    for row in rows:
        k = 0
        while k < len(row):
            rel, toks = row[k]
            label: str | None = None
            defines: str | None = None
            start_rel = "="
            while k + 1 < len(row) and _is_label(toks, vocab):  # `p(c|x) = softmax(f(x))_c = ...`
                label = label or _text(toks)
                defines = defines or _label_symbol(toks, vocab)
                start_rel = row[k + 1][0] if start_rel == "=" else start_rel
                k += 1
                rel, toks = (rel or row[k][0]), row[k][1]
            if not lines:
                rel = ""
            elif not rel:
                rel = "="  # a line without a relation continues an equality, as a TA reads it
            try:
                objective, tree = _parse_piece(toks, vocab)
                if rel == "⇒" and objective is None and defines is None:
                    raise MathError("\\Rightarrow must be followed by \\arg\\max or \\arg\\min over the variables (\\Rightarrow \\arg\\max_u ...) or by a definition (\\Rightarrow \\tau = ...)")
                definition = defines if rel == "⇒" and objective is None else None
                lines.append(Line(rel, objective, tree, label, start_rel, definition=definition))
            except MathError as exc:
                if not lines and label is None and _is_label(toks, vocab):
                    # `p(c|x)` alone, then `\propto ...` on the next row: the label names the start.
                    lines.append(Line("", None, None, _text(toks), "=", names_start=True))
                else:
                    lines.append(Line(rel, None, None, label, start_rel, error=str(exc)))
            k += 1
        if len(lines) > MAX_LINES:
            raise MathError(f"the derivation has more than {MAX_LINES} lines")
    return lines


def _parse_piece(toks: list[Token], vocab: Vocabulary) -> tuple[Objective | None, Node]:
    try:
        return parse_tokens(toks, vocab)
    except MathError as exc:
        raise MathError(f"in '{_text(toks)[:40]}': {exc}") from None


def _without_constraints(tokens: list[Token]) -> list[Token]:
    """Drop `s.t. ...` to the end of the row: the exercise declares its constraints (‖u‖ = 1)."""
    for k, tok in enumerate(tokens):
        if tok.kind == "stop":
            return tokens[:k]
    return tokens


_OPENING = ("(", "[", "{", "norml", "barl", "langle")
_CLOSING = (")", "]", "}", "normr", "barr", "rangle")


_MATH_WORDS = frozenset({*FUNCTION_WORDS, *OPT_WORDS, *GREEK, "sum", "arg", "softmax", "top"})


def _is_prose_word(tok: Token, vocab: Vocabulary) -> bool:
    return (tok.kind == "name" and len(tok.text) >= 2 and tok.text not in _MATH_WORDS
            and tok.text not in vocab.symbols and tok.text not in vocab.functions and tok.text not in vocab.indices)


def _without_notes(tokens: list[Token], vocab: Vocabulary) -> list[Token]:
    """Drop a justification written after the math of a row: `\\text{(by assumption } b_c = b_{c'})`,
    `with tau = 1/||z||`, or a last bracket holding a relation or prose (`(w = alpha u)`,
    `(definition of inner product)`, `(MSE)`, `1 (since α>0)`). One at the start of a row is skipped alone."""
    math_seen = False
    for k, tok in enumerate(tokens):
        starts_note = tok.kind == "note" or tok.kind == "name" and tok.text in JUSTIFICATION_WORDS and tok.text not in vocab.symbols
        if starts_note and math_seen:
            kept = tokens[:k]
            while kept and kept[-1].kind in _OPENING:  # `\\quad (\\text{by ...})`
                kept.pop()
            return kept
        math_seen = math_seen or tok.kind not in ("amp", "rel", "note")
    tokens = [t for t in tokens if t.kind != "note"]
    if len(tokens) > 2 and tokens[-1].kind == ")":
        level = 0
        for k in range(len(tokens) - 1, -1, -1):
            level += tokens[k].kind == ")"
            level -= tokens[k].kind == "("
            if level == 0:
                break
        inner, before = tokens[k + 1:-1], tokens[:k]
        called = before and (before[-1].kind == "cmd" or before[-1].text in vocab.functions or before[-1].text in _MATH_WORDS
                             or before[-1].kind == "op" and before[-1].text in "_^")
        # an unknown word there could only be an unknown symbol: it is prose (`(MSE)`, `(definition of S)`)
        remark = any(t.kind == "rel" or _is_prose_word(t, vocab) for t in inner)
        if remark and not called and any(t.kind not in ("amp", "rel") for t in before):
            return before
    return tokens


def _rows(text: str, vocab: Vocabulary) -> list[list[Token]]:
    rows = [_without_notes(_without_constraints(toks), vocab) for _, toks in _split(tokenize(text), {"row"})]
    return [toks for toks in rows if any(t.kind != "amp" for t in toks)]


@lru_cache(maxsize=4096)
def parse_derivation_text(text: str, vocab: Vocabulary) -> tuple[Line, ...]:
    rows = [_segments([], toks) for toks in _rows(text, vocab)]
    return tuple(_build(rows, vocab))


@lru_cache(maxsize=4096)
def parse_derivation_pairs(pairs: tuple[tuple[str, str], ...], vocab: Vocabulary) -> tuple[Line, ...]:
    rows: list[list[tuple[str, list[Token]]]] = []
    for number, (rel, expr) in enumerate(pairs, start=1):
        try:
            rel_tokens = tokenize(rel) if rel.strip() else []
            expr_rows = _rows(expr, vocab)
        except MathError as exc:
            raise MathError(f"line {number}: {exc}") from None
        if not expr_rows:
            raise MathError(f"line {number} is empty")
        rows.append(_segments(rel_tokens, expr_rows[0]))
        rows.extend(_segments([], toks) for toks in expr_rows[1:])
    return tuple(_build(rows, vocab))


def parse_derivation(answer: Any, vocab: Vocabulary) -> tuple[Line, ...]:
    if isinstance(answer, str):
        return parse_derivation_text(answer, vocab)
    pairs = tuple(
        (str(item.get("rel") or ""), str(item.get("expr") or "")) if isinstance(item, dict)
        else (str(getattr(item, "rel", "") or ""), str(getattr(item, "expr", "") or ""))
        for item in answer
        if str((item.get("expr") if isinstance(item, dict) else getattr(item, "expr", "")) or "").strip()
    )
    if len(pairs) > MAX_LINES:
        raise MathError(f"the derivation has more than {MAX_LINES} lines")
    return parse_derivation_pairs(pairs, vocab)


@lru_cache(maxsize=4096)
def parse_expression(text: str, vocab: Vocabulary) -> tuple[Objective | None, Node]:
    """One expression; `label =` in front is dropped; `a = b` of two values is refused."""
    rows = _rows(text, vocab)
    if not rows:
        raise MathError("the expression is empty")
    if len(rows) > 1:
        raise MathError("write one expression on one line")
    # `H \to \log C`: a top-level limit arrow names the value, like `H = \log C`.
    limit = {id(tok) for tok, _ in _split(rows[0], {"rel"}) if tok is not None and tok.text == "→"}
    pieces = _segments([], [Token("rel", "=", t.pos) if id(t) in limit else t for t in rows[0]])
    if not pieces:
        raise MathError("the expression is empty")
    while len(pieces) > 1 and _is_label(pieces[0][1], vocab):
        pieces = pieces[1:]
    if len(pieces) > 1:
        raise MathError("write one expression, not an equation between two expressions")
    if pieces[0][0] not in ("", "="):
        raise MathError("write one expression without a relation in front")
    return parse_tokens(pieces[0][1], vocab)


@lru_cache(maxsize=1024)
def parse_equation(text: str, vocab: Vocabulary) -> tuple[Node, Node] | None:
    """`lhs = rhs` of two values (`\\alpha^2 = 1`), after any labels; None when it is not one."""
    try:
        rows = _rows(text, vocab)
        pieces = _segments([], rows[0]) if len(rows) == 1 else []
    except MathError:
        return None
    while len(pieces) > 2 and _is_label(pieces[0][1], vocab):
        pieces = pieces[1:]
    if len(pieces) != 2 or pieces[1][0] != "=":
        return None
    try:
        (lhs_objective, lhs), (rhs_objective, rhs) = (parse_tokens(toks, vocab) for _, toks in pieces)
    except MathError:
        return None
    return (lhs, rhs) if lhs_objective is None and rhs_objective is None else None
