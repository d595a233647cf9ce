"""Numeric evaluation of a parsed tree on one group of instantiations (numpy, batched).

Vectors stay vectors: a column vector is (d, 1), its transpose (1, d); products follow matrix
rules, so `w w` is refused while `w w^T x_i` is a vector. Sums over i or c' are real sums along
that index's axis."""
from __future__ import annotations

from typing import Mapping

import numpy as np

from graders.engines.math.space import Env
from graders.engines.math.tree import (
    Add, Call, Div, Func, MathError, Mul, Neg, Node, Norm, Num, Pow, Sum, Sym, Transpose, walk,
)

MAX_ELEMENTS = 4_000_000
# Component indices bound by enclosing sums over the dimension: `\sum_j z_j^2` binds j to 0..d-1.
Bound = Mapping[str, int]


def _kind(a: np.ndarray) -> str:
    r, c = a.shape[-2:]
    if (r, c) == (1, 1):
        return "a scalar"
    if c == 1:
        return "a column vector"
    if r == 1:
        return "a row vector (a transpose)"
    return "a matrix"


def _is_scalar(a: np.ndarray) -> bool:
    return a.shape[-2:] == (1, 1)


def _check_size(a: np.ndarray) -> np.ndarray:
    if a.size > MAX_ELEMENTS:
        raise MathError("the expression needs too much work to evaluate")
    return a


def evaluate(node: Node, env: Env) -> np.ndarray:
    with np.errstate(all="ignore"):
        return _eval(node, env, {})


def _eval(node: Node, env: Env, bound: Bound) -> np.ndarray:  # noqa: C901 - one dispatch over node types
    if isinstance(node, Num):
        return np.full((1,) * env.space.ndim, node.value)
    if isinstance(node, Sym):
        return _symbol(node, env, bound)
    if isinstance(node, Add):
        values = [_eval(t, env, bound) for t in node.terms]
        shapes = {v.shape[-2:] for v in values}
        if len(shapes) > 1:
            kinds = sorted({_kind(v) for v in values})
            raise MathError(f"cannot add {' and '.join(kinds)}")
        total = values[0]
        for v in values[1:]:
            total = total + v
        return _check_size(total)
    if isinstance(node, Neg):
        return -_eval(node.arg, env, bound)
    if isinstance(node, Mul):
        return _check_size(_multiply(_eval(node.left, env, bound), _eval(node.right, env, bound), node.dot))
    if isinstance(node, Div):
        num, den = _eval(node.num, env, bound), _eval(node.den, env, bound)
        if not _is_scalar(den):
            raise MathError(f"cannot divide by {_kind(den)}")
        return _check_size(num / den)
    if isinstance(node, Pow):
        base, exp = _eval(node.base, env, bound), _eval(node.exp, env, bound)
        if not _is_scalar(exp):
            raise MathError("an exponent must be a scalar")
        if not _is_scalar(base):
            raise MathError(f"cannot raise {_kind(base)} to a power (write the norm: ‖x‖² or xᵀx)")
        return _check_size(np.power(base, exp))
    if isinstance(node, Transpose):
        return np.swapaxes(_eval(node.arg, env, bound), -1, -2)
    if isinstance(node, Norm):
        arg = _eval(node.arg, env, bound)
        return np.sqrt(np.sum(arg * arg, axis=(-2, -1), keepdims=True))
    if isinstance(node, Func):
        return _function(node, env, bound)
    if isinstance(node, Call):
        arg = _eval(node.arg, env, bound)
        if arg.shape[-1] != 1 or arg.shape[-2] != env.group["d"]:
            raise MathError(f"{node.name} applies to a vector, not to {_kind(arg)}")
        arg = np.broadcast_to(arg, np.broadcast_shapes(arg.shape, (env.batch,) + (1,) * (arg.ndim - 1)))
        value = env.value(node.name)(arg)
        return value if node.component is None else _component(value, f"{node.name}(…)_{node.component}", node.component, bound)
    if isinstance(node, Sum):
        return _sum(node, env, bound)
    raise MathError(f"cannot evaluate {type(node).__name__}")


def _component(value: np.ndarray, written: str, index: str, bound: Bound) -> np.ndarray:
    """Component `index` (bound by an enclosing sum over the dimension) of a column vector."""
    if not (value.shape[-1] == 1 and value.shape[-2] > 1):
        raise MathError(f"'{written}': only a vector has components")
    if index not in bound:
        raise MathError(f"'{written}' is a component: sum it over {index} = 1..d (\\sum_{index})")
    return value[..., bound[index]:bound[index] + 1, :]


def _symbol(node: Sym, env: Env, bound: Bound) -> np.ndarray:
    if node.component is not None:
        whole = _symbol(Sym(node.name, node.index), env, bound)
        return _component(whole, f"{node.name}_{{{node.index},{node.component}}}", node.component, bound)
    space = env.space
    spec = space.symbols[node.name]
    if spec.family is None:
        if node.index is None:
            return env.value(node.name)
        value = env.value(node.name)
        is_vector = value.shape[-1] == 1 and value.shape[-2] > 1
        if is_vector and (node.index in bound or node.index in space.components):
            return _component(value, f"{node.name}_{node.index}", node.index, bound)
        raise MathError(f"'{node.name}' has no index here, but '{node.name}_{node.index}' was written")
    if node.index is None and spec.unindexed == "common":
        return np.take(env.value(node.name), [0], axis=space.axis(space.families[spec.family][0]))
    if node.index is None:
        example = space.families[spec.family][0]
        raise MathError(f"'{node.name}' needs its index, e.g. {node.name}_{example}")
    if node.index not in space.families[spec.family]:
        raise MathError(f"'{node.name}_{node.index}': '{node.index}' is not an index of {node.name} (use {', '.join(space.families[spec.family])})")
    value = env.value(node.name)
    home, target = space.axis(space.families[spec.family][0]), space.axis(node.index)
    return value if home == target else np.swapaxes(value, home, target)


def _multiply(a: np.ndarray, b: np.ndarray, dot: bool) -> np.ndarray:
    if _is_scalar(a) or _is_scalar(b):
        return a * b
    (ra, ca), (rb, cb) = a.shape[-2:], b.shape[-2:]
    if dot and ca == 1 and cb == 1 and ra == rb:
        return np.sum(a * b, axis=-2, keepdims=True)
    if ca == rb:
        return a @ b
    hint = " (a transpose missing?)" if ca == cb == 1 or ra == rb == 1 else ""
    raise MathError(f"cannot multiply {_kind(a)} by {_kind(b)}{hint}")


def _function(node: Func, env: Env, bound: Bound) -> np.ndarray:
    args = [_eval(a, env, bound) for a in node.args]
    if node.name in ("cossim", "inner"):
        a, b = args
        if a.shape[-1] != 1 or b.shape[-1] != 1 or a.shape[-2] != b.shape[-2] or _is_scalar(a):
            raise MathError(f"{'cos' if node.name == 'cossim' else 'an inner product'}(a, b) needs two vectors of the same size")
        inner = np.sum(a * b, axis=-2, keepdims=True)
        if node.name == "inner":
            return inner
        norms = np.sqrt(np.sum(a * a, axis=-2, keepdims=True) * np.sum(b * b, axis=-2, keepdims=True))
        return inner / norms
    if node.name == "logb":
        arg, base = args
        if not _is_scalar(arg):
            raise MathError(f"log of {_kind(arg)} is not defined here")
        return np.log(arg) / np.log(base)
    (arg,) = args
    if node.name == "trace":
        if arg.shape[-1] != arg.shape[-2]:
            raise MathError(f"the trace of {_kind(arg)} is not defined")
        return np.trace(arg, axis1=-2, axis2=-1)[..., None, None]
    if node.name == "abs" and arg.shape[-1] == 1:  # |z| of a vector is read as its norm
        return np.sqrt(np.sum(arg * arg, axis=(-2, -1), keepdims=True))
    if not _is_scalar(arg):
        raise MathError(f"{node.name} of {_kind(arg)} is not defined here")
    return {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "cos": np.cos,
            "arccos": lambda v: np.arccos(np.clip(v, -1.0, 1.0))}[node.name](arg)


def _component_use(node: Sum, env: Env) -> bool:
    """Whether the sum's index picks components of unindexed vectors (`\\sum_j z_j^2`) rather
    than members of an index family (`\\sum_{c'} w_{c'}`, `\\sum_i x_i`)."""
    space = env.space
    syms = [n for n in walk(node.body) if isinstance(n, Sym)]
    components = [n for n in syms if n.component == node.index or n.index == node.index and space.symbols[n.name].family is None]
    components += [n for n in walk(node.body) if isinstance(n, Call) and n.component == node.index]
    members = [n for n in syms if n.index == node.index and space.symbols[n.name].family is not None]
    if components and members:
        raise MathError(
            f"'{node.index}' indexes both the components of {components[0].name} and {members[0].name}_{node.index}: use another letter for one of them"
        )
    if not components and node.index not in space.index_names:
        raise MathError(f"'{node.index}' is not a summation index here (use one of {', '.join(sorted(space.index_names))})")
    return bool(components)


def _component_sum(node: Sum, env: Env, bound: Bound) -> np.ndarray:
    space = env.space
    if node.lower is not None and not (isinstance(node.lower, Num) and node.lower.value == 1):
        raise MathError(f"the sum over the components {node.index} must start at 1")
    if node.upper is not None and not (isinstance(node.upper, Sym) and space.symbols[node.upper.name].size_of == "d"):
        raise MathError(f"the sum over the components {node.index} must run up to the dimension d")
    total = _eval(node.body, env, {**bound, node.index: 0})
    for position in range(1, env.group["d"]):
        total = total + _eval(node.body, env, {**bound, node.index: position})
    return total


def _sum(node: Sum, env: Env, bound: Bound) -> np.ndarray:
    space = env.space
    if not node.mean and node.index not in bound and _component_use(node, env):
        return _check_size(_component_sum(node, env, bound))
    family = space.family_of(node.index)
    if node.lower is not None and not (isinstance(node.lower, Num) and node.lower.value == 1):
        raise MathError(f"the sum over {node.index} must start at 1")
    if node.upper is not None:
        upper = node.upper
        if not (isinstance(upper, Sym) and space.symbols[upper.name].size_of == family):
            raise MathError(f"the sum over {node.index} must run over the whole range (up to its count)")
    body = _eval(node.body, env, bound)
    axis = space.axis(node.index)
    if node.mean:
        return body.mean(axis=axis, keepdims=True)
    if body.shape[axis] == 1:  # the summand does not depend on the index: it is counted N times
        return body * env.size(family)
    return body.sum(axis=axis, keepdims=True)
