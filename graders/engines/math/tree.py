"""The parsed expression tree. Nodes are frozen (hashable) so that values can be cached."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from dataclasses import replace as dataclass_replace
from typing import Callable, Iterator, Union


class MathError(ValueError):
    """A student-facing problem with an expression: refused input, wrong shapes, limits."""


@dataclass(frozen=True)
class Num:
    value: float
    text: str


@dataclass(frozen=True)
class Sym:
    name: str
    index: str | None = None
    shown: str | None = field(default=None, compare=False)  # how the student wrote it: f(x) for logit
    component: str | None = None  # x_{ij}: component j of the data vector x_i


@dataclass(frozen=True)
class Add:
    terms: tuple["Node", ...]


@dataclass(frozen=True)
class Neg:
    arg: "Node"


@dataclass(frozen=True)
class Mul:
    """`dot` is an explicit `\\cdot` between two column vectors, read as their inner product."""

    left: "Node"
    right: "Node"
    dot: bool = False


@dataclass(frozen=True)
class Div:
    num: "Node"
    den: "Node"


@dataclass(frozen=True)
class Pow:
    """`grouped`: the base was written in parentheses, `(x_i - f(r(x_i)))^2`, which a TA reads
    as the squared norm when the base is a vector (see relations.Judge.read_vector_squares)."""

    base: "Node"
    exp: "Node"
    grouped: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Transpose:
    arg: "Node"


@dataclass(frozen=True)
class Norm:
    arg: "Node"


@dataclass(frozen=True)
class Func:
    """A built-in function: exp, log, sqrt, abs, cos (one argument), cossim, inner, logb (two;
    logb is the logarithm of its first argument to the numeric base given second)."""

    name: str
    args: tuple["Node", ...]


@dataclass(frozen=True)
class Call:
    """A declared function symbol applied to an argument, e.g. f(r(x_i)); `component` picks one
    component of its (vector) value, f(r(x_i))_j."""

    name: str
    arg: "Node"
    component: str | None = None


@dataclass(frozen=True)
class Sum:
    """A sum over an index; `mean` makes it the average (E_i[...] = 1/N Σ_i ...)."""

    index: str
    body: "Node"
    lower: "Node | None" = None
    upper: "Node | None" = None
    mean: bool = False


Node = Union[Num, Sym, Add, Neg, Mul, Div, Pow, Transpose, Norm, Func, Call, Sum]


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Num, Sym)):
        return ()
    if isinstance(node, Add):
        return node.terms
    if isinstance(node, (Neg, Transpose, Norm)):
        return (node.arg,)
    if isinstance(node, Call):
        return (node.arg,)
    if isinstance(node, Mul):
        return (node.left, node.right)
    if isinstance(node, Div):
        return (node.num, node.den)
    if isinstance(node, Pow):
        return (node.base, node.exp)
    if isinstance(node, Func):
        return node.args
    if isinstance(node, Sum):
        return tuple(n for n in (node.body, node.lower, node.upper) if n is not None)
    raise TypeError(node)


def rebuild(node: Node, replace: "Callable[[Node], Node]") -> Node:
    """The tree with `replace` applied bottom-up to every node (unchanged parts are shared)."""
    changes: dict[str, object] = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, tuple):
            new = tuple(rebuild(v, replace) for v in value)
            if any(a is not b for a, b in zip(new, value)):
                changes[f.name] = new
        elif not isinstance(value, (str, float, bool, type(None))):
            new_node = rebuild(value, replace)
            if new_node is not value:
                changes[f.name] = new_node
    return replace(dataclass_replace(node, **changes) if changes else node)


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def symbols(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Sym)} | {n.name for n in walk(node) if isinstance(n, Call)}


def size(node: Node) -> int:
    return sum(1 for _ in walk(node))


def depth(node: Node) -> int:
    kids = children(node)
    return 1 + (max(depth(k) for k in kids) if kids else 0)
