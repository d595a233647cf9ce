"""LaTeX of a parsed tree, written so the structure shows (STACK-style validation): products get
an explicit `\\cdot`, fractions are `\\frac`, a sum shows what it binds, so a student sees that
`1/2 alpha` was read as ½·α and `1/N sum_i a_i + b` as (1/N Σ a_i) + b."""
from __future__ import annotations

from graders.engines.math.lexer import GREEK
from graders.engines.math.parser import Objective
from graders.engines.math.tree import Add, Call, Div, Func, Mul, Neg, Node, Norm, Num, Pow, Sum, Sym, Transpose

_FUNCS = {"exp": "\\exp", "log": "\\log", "cos": "\\cos", "arccos": "\\arccos", "trace": "\\operatorname{tr}"}


def _name(name: str) -> str:
    if name in GREEK:
        return "\\" + name
    if name.endswith("hat") and len(name) > 3:
        return f"\\hat{{{name[:-3]}}}"
    return name


def _atomic(node: Node) -> bool:
    return isinstance(node, (Sym, Norm, Func, Call)) or (isinstance(node, Num) and node.value >= 0)


def latex(node: Node) -> str:  # noqa: C901 - one dispatch over node types
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Sym):
        index = f"{node.index},{node.component}" if node.component else node.index
        return (node.shown or _name(node.name)) + (f"_{{{index}}}" if index else "")
    if isinstance(node, Add):
        out = latex(node.terms[0])
        for term in node.terms[1:]:
            out += f" - {_wrap_term(term.arg)}" if isinstance(term, Neg) else f" + {_wrap_term(term)}"
        return out
    if isinstance(node, Neg):
        return f"-{_wrap_term(node.arg)}"
    if isinstance(node, Mul):
        op = " \\bullet " if node.dot else " \\cdot "
        # Products are read left to right: a product on the right came in parentheses and keeps them.
        right = f"\\left({latex(node.right)}\\right)" if isinstance(node.right, Mul) else _wrap_factor(node.right)
        return _wrap_factor(node.left) + op + right
    if isinstance(node, Div):
        return f"\\frac{{{latex(node.num)}}}{{{latex(node.den)}}}"
    if isinstance(node, Pow):
        base = latex(node.base) if _atomic(node.base) and not isinstance(node.base, Func) else f"\\left({latex(node.base)}\\right)"
        return f"{base}^{{{latex(node.exp)}}}"
    if isinstance(node, Transpose):
        inner = latex(node.arg) if isinstance(node.arg, Sym) else f"\\left({latex(node.arg)}\\right)"
        return f"{inner}^\\top"
    if isinstance(node, Norm):
        return f"\\left\\|{latex(node.arg)}\\right\\|"
    if isinstance(node, Func):
        if node.name == "sqrt":
            return f"\\sqrt{{{latex(node.args[0])}}}"
        if node.name == "abs":
            return f"\\left|{latex(node.args[0])}\\right|"
        if node.name == "cossim":
            return f"\\cos\\left({latex(node.args[0])}, {latex(node.args[1])}\\right)"
        if node.name == "logb":
            return f"\\log_{{{latex(node.args[1])}}}\\left({latex(node.args[0])}\\right)"
        if node.name == "inner":
            return f"\\left\\langle {latex(node.args[0])}, {latex(node.args[1])}\\right\\rangle"
        return f"{_FUNCS[node.name]}\\left({latex(node.args[0])}\\right)"
    if isinstance(node, Call):
        return f"{_name(node.name)}\\left({latex(node.arg)}\\right)" + (f"_{{{node.component}}}" if node.component else "")
    if isinstance(node, Sum) and node.mean:
        return f"\\mathbb{{E}}_{{{node.index}}}\\left[{latex(node.body)}\\right]"
    if isinstance(node, Sum):
        sub = node.index + ("=" + latex(node.lower) if node.lower is not None else "")
        sup = f"^{{{latex(node.upper)}}}" if node.upper is not None else ""
        return f"\\sum_{{{sub}}}{sup} \\left[{latex(node.body)}\\right]"
    raise TypeError(node)


def _wrap_term(node: Node) -> str:
    return f"\\left({latex(node)}\\right)" if isinstance(node, (Add, Neg)) else latex(node)


def _wrap_factor(node: Node) -> str:
    return f"\\left({latex(node)}\\right)" if isinstance(node, (Add, Neg)) else latex(node)


def latex_line(objective: Objective | None, node: Node) -> str:
    if objective is None:
        return latex(node)
    op = "\\arg\\max" if objective.kind == "max" else "\\arg\\min"
    variables = ",".join(_name(v) for v in objective.variables)
    return f"{op}_{{{variables}}} {latex(node)}" if variables else f"{op} {latex(node)}"


def read_as(objective: Objective | None, node: Node) -> str:
    return f"read as ${latex_line(objective, node)}$"
