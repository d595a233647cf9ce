"""The relations of contract §3, decided numerically on every group of instantiations.

`=`  equal for all values; `∝` proportional in the class index (positive ratio, the same for
every c); `≃` same minimisers over the optimisation variables (new = a·old + b, a > 0, a and b
free of them; a variable that disappears is minimised out); `⇒ argmax/argmin` the optimisation
of the previous line is the one of this line."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from graders.engines.math.evaluate import evaluate
from graders.engines.math.parser import Objective
from graders.engines.math.space import LEAD, Env, Space, ValueCache
from graders.engines.math.tree import MathError, Node, Norm, Num, Pow, rebuild, symbols, walk

RTOL = 1e-6
FIT_TOL = 1e-6
MIN_OUT_TOL = 1e-5
GRID = (81, 21, 21)
GREEK_OUT = {"alpha": "α", "tau": "τ", "theta": "θ", "lambda": "λ", "sigma": "σ"}


def pretty(name: str) -> str:
    return GREEK_OUT.get(name, name)


@dataclass(frozen=True)
class Form:
    """A line as the judge sees it: its optimisation (if any) and its tree."""

    objective: Objective | None
    tree: Node


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


OK = Verdict(True)


class Judge:
    def __init__(self, space: Space) -> None:
        self.space = space
        self.envs = space.instances
        self._variants: dict[tuple[int, str], Env] = {}
        self._dependencies = ValueCache()
        self._squares = ValueCache()

    # -- values --------------------------------------------------------------------------
    def values(self, tree: Node, env: Env) -> np.ndarray:
        # Keyed by identity (parsed trees are cached objects; a deep structural hash is slow);
        # the entry keeps the tree so that its id cannot be reused while cached.
        entry = env.cache.get(id(tree))
        if entry is None or entry[0] is not tree:
            entry = (tree, evaluate(tree, env))
            env.cache.put(id(tree), entry)
        return entry[1]

    def all_values(self, tree: Node) -> list[np.ndarray]:
        return [self.values(tree, env) for env in self.envs]

    def dependencies(self, tree: Node) -> frozenset[str]:
        entry = self._dependencies.get(id(tree))
        if entry is None or entry[0] is not tree:
            out: set[str] = set()
            for name in symbols(tree):
                out |= self.space.depends_on(name)
            entry = (tree, frozenset(out))
            self._dependencies.put(id(tree), entry)
        return entry[1]

    def read_vector_squares(self, tree: Node) -> tuple[Node, bool]:
        """`(x_i - f(r(x_i)))^2` of a column vector read as ‖x_i - f(r(x_i))‖², as students
        commonly write the squared norm; whether any was read so. Other powers of vectors stay
        refused by the evaluator."""
        entry = self._squares.get(id(tree))
        if entry is None or entry[0] is not tree:
            found = any(isinstance(n, Pow) and n.grouped for n in walk(tree))
            read = rebuild(tree, self._square_of_vector) if found else tree
            entry = (tree, (read, read is not tree))
            self._squares.put(id(tree), entry)
        return entry[1]

    def _square_of_vector(self, node: Node) -> Node:
        if not (isinstance(node, Pow) and node.grouped and isinstance(node.exp, Num) and node.exp.value == 2):
            return node
        try:
            base = evaluate(node.base, self.envs[0])
        except MathError:  # e.g. a component bound by an enclosing sum: not a whole vector
            return node
        rows, cols = base.shape[-2:]
        return Pow(Norm(node.base), node.exp) if cols == 1 and rows > 1 else node

    def variables_of(self, tree: Node) -> list[str]:
        deps = self.dependencies(tree)
        return [v for v in self.space.variables if v in deps]

    def variant(self, k: int, name: str) -> Env:
        key = (k, name)
        if key not in self._variants:
            self._variants[key] = self.space.variant(self.envs[k], [name], seed=zlib.crc32(name.encode()) + k)
        return self._variants[key]

    # -- relations -----------------------------------------------------------------------
    def check(self, rel: str, old: Form, new: Form) -> Verdict:
        if rel == "=" and old.objective is None and new.objective is None:
            return self.equal(old.tree, new.tree)
        if rel == "∝":
            if old.objective is not None or new.objective is not None:
                return Verdict(False, "\\propto relates two values, not optimisation problems")
            return self.proportional(old.tree, new.tree)
        return self.same_minimisers(old, new)

    def equal(self, old: Node, new: Node) -> Verdict:
        for k, env in enumerate(self.envs):
            a, b = self.values(old, env), self.values(new, env)
            if a.shape[-2:] != b.shape[-2:]:
                from graders.engines.math.evaluate import _kind

                return Verdict(False, f"this line is {_kind(b)} but the previous one is {_kind(a)}")
            if not _close(a, b):
                return Verdict(False, self.explain_difference(old, new))
        return OK

    def proportional(self, old: Node, new: Node) -> Verdict:
        class_axes = [self.space.axis(i) for i in self.space.index_names if i in ("c",)]
        if not class_axes:  # no class index here: a positive factor free of the variables
            verdict = self.positive_multiple(old, new)
            return verdict if verdict.ok else Verdict(False, verdict.reason or "the ratio to the previous line is not a constant positive factor")
        for env in self.envs:
            a, b = self.values(old, env), self.values(new, env)
            if a.shape[-2:] != (1, 1) or b.shape[-2:] != (1, 1):
                return Verdict(False, "\\propto compares two numbers (one per class c)")
            with np.errstate(all="ignore"):
                ratio = b / a
            if not np.all(np.isfinite(ratio)):
                return Verdict(False, "the ratio to the previous line is not defined everywhere")
            if np.any(ratio <= 0):
                return Verdict(False, "the ratio to the previous line is not positive")
            for axis in class_axes:
                mean = ratio.mean(axis=axis, keepdims=True)
                if not np.all(np.abs(ratio - mean) <= 1e-6 * np.abs(mean)):
                    return Verdict(False, "the ratio to the previous line depends on the class c, so the two are not proportional in c")
        return OK

    def same_minimisers(self, old: Form, new: Form) -> Verdict:
        if not self.space.variables:
            return Verdict(False, "≃ and argmax/argmin compare optimisation problems; there is nothing to optimise here (use = or \\propto)")
        for form in (old, new):
            if form.objective is not None:
                unknown = [v for v in form.objective.variables if v not in self.space.variables and self.space.depends_on(v).isdisjoint(self.space.variables)]
                if unknown:
                    return Verdict(False, f"'{unknown[0]}' is not one of the variables optimised over ({', '.join(map(pretty, self.space.variables))})")
        old_vars, new_vars = set(self.variables_of(old.tree)), set(self.variables_of(new.tree))
        for k, env in enumerate(self.envs):
            o = _scalar_objective(self.values(old.tree, env), "the previous line") * _sign(old.objective)
            n = _scalar_objective(self.values(new.tree, env), "this line") * _sign(new.objective)
            for var in sorted(old_vars - new_vars):
                o = self.minimise_out(old, var, env)
            for var in sorted(new_vars - old_vars):
                n = self.minimise_out(new, var, env)
            tol = MIN_OUT_TOL if old_vars != new_vars else FIT_TOL
            verdict = _affine_fit(o, n, self.space.datasets, self.space.draws, tol)
            if not verdict.ok:
                gone = sorted(old_vars ^ new_vars)
                if gone and verdict.reason.startswith("differs"):
                    names = ", ".join(pretty(v) for v in gone)
                    return Verdict(False, f"after minimising over {names}, {verdict.reason}")
                return verdict
        return OK

    def positive_multiple(self, target: Node, new: Node) -> Verdict:
        """new = a·target with a > 0 free of the variables (a may depend on the data, e.g. N)."""
        d, p = self.space.datasets, self.space.draws
        for env in self.envs:
            o = _scalar_objective(self.values(target, env), "the target")
            n = _scalar_objective(self.values(new, env), "the answer")
            o = np.broadcast_to(o, (d * p,) + o.shape[1:]).reshape(d, p)
            n = np.broadcast_to(n, (d * p,) + n.shape[1:]).reshape(d, p)
            ratio = n / o
            if not np.all(np.isfinite(ratio)):
                return Verdict(False, "it is not defined for some values")
            mean = ratio.mean(axis=1, keepdims=True)
            if not np.all(np.abs(ratio - mean) <= 1e-6 * np.abs(mean)):
                return Verdict(False)
            if np.any(mean <= 0):
                return Verdict(False, "a negative factor turns the minimisation into a maximisation")
        return OK

    def minimise_out(self, form: Form, var: str, env: Env) -> np.ndarray:
        spec = self.space.symbols[var]
        if spec.shape != "scalar":
            raise MathError(f"{pretty(var)} disappears from the line; only a scalar variable can be minimised out automatically")
        lo, hi = spec.sample.get("log_uniform", [0.1, 10]) if isinstance(spec.sample, dict) else (0.1, 10)
        grid = np.geomspace(lo / 10, hi * 10, GRID[0])
        shape = (env.batch, len(grid)) + (1,) * (self.space.ndim - LEAD)
        trial = np.broadcast_to(grid.reshape((1, -1) + (1,) * (self.space.ndim - LEAD)), shape)
        best = None
        for rounds, points in enumerate(GRID):
            values = evaluate(form.tree, env.replace({var: trial})) * _sign(form.objective)
            values = np.broadcast_to(values, np.broadcast_shapes(values.shape, shape))
            flat = values.reshape(env.batch, trial.shape[1], -1)
            if flat.shape[-1] != 1:
                raise MathError("the line still depends on an index: is a sum missing?")
            flat = np.where(np.isfinite(flat[..., 0]), flat[..., 0], np.inf)
            pick = np.argmin(flat, axis=1)
            best = flat[np.arange(env.batch), pick]
            if rounds == 0 and np.any((pick == 0) | (pick == flat.shape[1] - 1)):
                raise MathError(f"minimised over {pretty(var)} > 0 the previous line has no minimum (it keeps decreasing towards the edge), so {pretty(var)} cannot disappear here")
            if rounds + 1 == len(GRID):
                break
            centre = trial.reshape(env.batch, -1)
            left = centre[np.arange(env.batch), np.maximum(pick - 1, 0)]
            right = centre[np.arange(env.batch), np.minimum(pick + 1, centre.shape[1] - 1)]
            nxt = np.linspace(left, right, GRID[rounds + 1], axis=1)
            trial = nxt.reshape((env.batch, -1) + (1,) * (self.space.ndim - LEAD))
            shape = trial.shape
        assert best is not None
        return best.reshape((env.batch,) + (1,) * (self.space.ndim - 1))

    # -- explanations --------------------------------------------------------------------
    def explain_difference(self, old: Node, new: Node) -> str:
        """Why `new` is not equal to `old`: a sign, a constant, a factor, or what the difference depends on."""
        first = self.envs[0]
        a, b = self.values(old, first), self.values(new, first)
        if _close(-a, b) and not _close(a, 0 * a):
            return "it is the negative of the previous line (a sign error)"
        variables = self.space.variables
        if variables and all(a.shape[-2:] == (1, 1) for a in (a, b)):
            fit = _affine_fit(
                _scalar_objective(a, ""), _scalar_objective(b, ""), self.space.datasets, self.space.draws, FIT_TOL,
            ) if _is_objective(a) and _is_objective(b) else Verdict(False)
            if fit.ok:
                return "the two are only equal up to a positive factor or an added constant free of the variables: use ≃"
        if a.shape[-2:] == (1, 1) and b.shape[-2:] == (1, 1) and "c" in self.space.index_names:
            ok = self.proportional(old, new).ok
            if ok:
                return "the two are only proportional in c, not equal: use \\propto"
        depends = []
        diff = b - a
        for name in self._diagnostic_symbols(old, new):
            alt = self.variant(0, name)
            if not _close(self.values(new, alt) - self.values(old, alt), diff):
                depends.append(pretty(name))
        class_axis = self.space.axis("c") if "c" in self.space.index_names else None
        if class_axis is not None and diff.shape[class_axis] > 1:
            mean = diff.mean(axis=class_axis, keepdims=True)
            if not _close(diff, mean):  # _close broadcasts the mean over the classes
                depends.append("the class c")
        if depends:
            return f"differs from the previous line by a term that depends on {', '.join(depends)}"
        return "differs from the previous line"

    def _diagnostic_symbols(self, old: Node, new: Node) -> list[str]:
        deps = self.dependencies(old) | self.dependencies(new)
        base = [n for n, s in self.space.symbols.items() if s.derived is None and s.size_of is None and n in deps]
        base += [n for n in self.space.functions if n in deps]
        ordered = [v for v in self.space.variables if v in base] + [n for n in base if n not in self.space.variables]
        return ordered


def _sign(objective: Objective | None) -> float:
    return -1.0 if objective is not None and objective.kind == "max" else 1.0


def _is_objective(a: np.ndarray) -> bool:
    return a.shape[-2:] == (1, 1) and all(s == 1 for s in a.shape[1:-2])


def _scalar_objective(a: np.ndarray, what: str) -> np.ndarray:
    if not _is_objective(a):
        raise MathError(f"{what} is not a single number (a sum over an index, or a norm, may be missing)")
    return a


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.broadcast_arrays(a, b)
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb):
        return False
    a, b = a[fa], b[fb]
    if a.size == 0:
        return True
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1e-300)
    return bool(np.all(np.abs(a - b) <= RTOL * np.maximum(np.abs(a), np.abs(b)) + 1e-9 * scale))


def _affine_fit(o: np.ndarray, n: np.ndarray, datasets: int, draws: int, tol: float) -> Verdict:
    """Per dataset, across draws of the variables: is n = a·o + b with a > 0?"""
    o = np.broadcast_to(o, (datasets * draws,) + o.shape[1:]).reshape(datasets, draws)
    n = np.broadcast_to(n, (datasets * draws,) + n.shape[1:]).reshape(datasets, draws)
    if not (np.all(np.isfinite(o)) and np.all(np.isfinite(n))):
        return Verdict(False, "the line is not defined (or overflows) for some values of the variables")
    oc = o - o.mean(axis=1, keepdims=True)
    nc = n - n.mean(axis=1, keepdims=True)
    scale_o = np.abs(o).max(axis=1) + 1e-300
    scale_n = np.abs(n).max(axis=1) + 1e-300
    old_const = np.abs(oc).max(axis=1) <= tol * scale_o
    new_const = np.abs(nc).max(axis=1) <= tol * scale_n
    if np.all(old_const):
        if np.all(new_const):
            return OK
        return Verdict(False, "differs: the previous line does not depend on the variables but this one does")
    if np.all(new_const):
        return Verdict(False, "differs: this line no longer depends on the variables, the previous one does")
    var = (oc * oc).sum(axis=1)
    a = (oc * nc).sum(axis=1) / np.where(var > 0, var, 1)
    resid = nc - a[:, None] * oc
    fits = np.abs(resid).max(axis=1) <= tol * np.maximum(scale_n, np.abs(a) * scale_o)
    varying = ~old_const
    if not np.all(fits[varying]):
        return Verdict(False, "differs from the previous line by more than a positive factor and a constant: the minimisers are not the same")
    if np.any(a[varying] <= tol):
        if np.all(a[varying] < 0):
            return Verdict(False, "a negative factor turns min into max: this line is maximised where the previous one is minimised")
        return Verdict(False, "the factor relating the two lines is not positive")
    return OK
