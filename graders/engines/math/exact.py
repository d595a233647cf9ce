"""Exact checks of scalar answers with sympy (α* = 1, log C), on sympy objects built from the
project's own tree, never from text. Each check runs under a time limit; when sympy cannot
decide in time, the caller's numeric test is the judge."""
from __future__ import annotations

import math
import threading

import sympy

from graders.engines.math.tree import Add, Div, Func, Mul, Neg, Node, Num, Pow, Sym

TIME_LIMIT = 0.5
MAX_NODES = 80
_FUNCS = {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "abs": sympy.Abs, "cos": sympy.cos, "arccos": sympy.acos}


def to_sympy(node: Node, scalars: frozenset[str]) -> sympy.Expr | None:
    """The sympy object of a scalar tree, or None if it holds anything else (vectors, sums)."""
    if isinstance(node, Num):
        if node.text == "e":
            return sympy.E
        if node.text == "pi":
            return sympy.pi
        return sympy.Rational(node.text)
    if isinstance(node, Sym):
        return sympy.Symbol(node.name, positive=True) if node.name in scalars and node.index is None else None
    parts: list[sympy.Expr] = []
    kids = node.terms if isinstance(node, Add) else (node.arg,) if isinstance(node, Neg) else (
        (node.left, node.right) if isinstance(node, Mul) else (node.num, node.den) if isinstance(node, Div)
        else (node.base, node.exp) if isinstance(node, Pow) else node.args if isinstance(node, Func) else None
    )
    if kids is None:
        return None
    for kid in kids:
        value = to_sympy(kid, scalars)
        if value is None:
            return None
        parts.append(value)
    if isinstance(node, Add):
        return sympy.Add(*parts)
    if isinstance(node, Neg):
        return -parts[0]
    if isinstance(node, Mul):
        return parts[0] * parts[1]
    if isinstance(node, Div):
        return parts[0] / parts[1]
    if isinstance(node, Pow):
        return sympy.Pow(parts[0], parts[1])
    if isinstance(node, Func) and node.name == "logb":
        return sympy.log(parts[0], parts[1])
    if isinstance(node, Func) and node.name in _FUNCS:
        return _FUNCS[node.name](parts[0])
    return None


def _simplifies_to_zero(difference: sympy.Expr) -> bool | None:
    simplified = sympy.simplify(difference)
    if simplified == 0:
        return True
    if simplified.is_number and simplified.free_symbols == set():
        value = complex(simplified.evalf(30))
        return None if math.isnan(value.real) else False
    return None


def exactly_equal(a: Node, b: Node, scalars: frozenset[str], size: int) -> bool | None:
    """True/False when sympy decides within the time limit, None otherwise."""
    if size > MAX_NODES:
        return None
    sa, sb = to_sympy(a, scalars), to_sympy(b, scalars)
    if sa is None or sb is None:
        return None
    outcome: list[bool | None] = [None]

    def run() -> None:
        try:
            outcome[0] = _simplifies_to_zero(sa - sb)
        except Exception:  # sympy may raise on exotic input; the numeric test decides then
            outcome[0] = None

    # A daemon thread: a simplification that overruns is abandoned and cannot delay exit.
    worker = threading.Thread(target=run, name="sympy-exact", daemon=True)
    worker.start()
    worker.join(TIME_LIMIT)
    return None if worker.is_alive() else outcome[0]
