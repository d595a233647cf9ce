"""The random instantiations an exercise's expressions are evaluated on.

An exercise folder declares its symbols in `math.yaml`: shape (scalar/vector), index family
(w_c over classes, x_i over data points), how to sample them, which are optimisation variables,
and derived symbols written in the math language itself (`S: 1/N sum_i x_i x_i^T`).
`components` lists the index names that may pick a vector's components (sum_{j=1}^d z_j^2,
x_{ij}; a sum over components has no index axis: the evaluator loops over the d rows), and
`unindexed: common` lets a bare symbol of an equally sampled family stand for its shared value.

Each *group* fixes the dimension d and the index ranges; within a group the batch axis holds
`datasets × draws` instantiations: data (x_i, z, w_c...) are drawn per dataset, optimisation
variables (alpha, u, f) per draw, so that "free of the variables" can be tested per dataset.

Every array has the layout (batch, opt, *index axes, rows, cols): `opt` is a spare axis used
to minimise a variable out on a grid; there is one index axis per declared index name."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml

from graders.engines.math.parser import Vocabulary
from graders.engines.math.tree import MathError, Node

LEAD = 2  # batch, opt


@dataclass(frozen=True)
class SymbolSpec:
    name: str
    shape: str = "scalar"  # scalar | vector
    family: str | None = None  # index family (e.g. "C", "N") when the symbol carries an index
    sample: Any = "normal"
    variable: bool = False
    derived: str | None = None
    size_of: str | None = None
    # "common": the bare symbol (b) is the value every index shares (b_c = b for all c);
    # only for a sampler that draws one value for the whole family ("equal").
    unindexed: str | None = None

    def __post_init__(self) -> None:
        if self.unindexed not in (None, "common"):
            raise ValueError(f"math.yaml: {self.name}: unindexed must be 'common'")
        if self.unindexed == "common" and (self.family is None or self.sample != "equal"):
            raise ValueError(f"math.yaml: {self.name}: unindexed: common needs an index family and sample: equal")


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    sample: str  # rotation | smooth_map
    variable: bool = False


@dataclass
class Space:
    """The parsed `math.yaml` of one exercise."""

    seed: int
    datasets: int
    draws: int
    groups: list[dict[str, int]]
    families: dict[str, list[str]]  # family (the group key of its range) -> index names
    symbols: dict[str, SymbolSpec]
    functions: dict[str, FunctionSpec]
    variables: list[str]
    applications: dict[str, tuple[str, str]] = field(default_factory=dict)  # head -> (argument, symbol)
    components: frozenset[str] = frozenset()  # index names for the components of a vector: z_j

    @classmethod
    def load(cls, path: Path) -> "Space":
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        symbols = {name: SymbolSpec(name=name, **(spec or {})) for name, spec in data.get("symbols", {}).items()}
        functions = {name: FunctionSpec(name=name, **spec) for name, spec in data.get("functions", {}).items()}
        space = cls(
            seed=int(data.get("seed", 0)),
            datasets=int(data.get("datasets", 4)),
            draws=int(data.get("draws", 6)),
            groups=list(data["groups"]),
            families={k: list(v) for k, v in data.get("indices", {}).items()},
            symbols=symbols,
            functions=functions,
            variables=list(data.get("variables", [])),
            applications={head: (spec["argument"], spec["means"]) for head, spec in data.get("applications", {}).items()},
            components=frozenset(data.get("components", [])),
        )
        space.digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return space

    @cached_property
    def index_names(self) -> list[str]:
        return [name for names in self.families.values() for name in names]

    def positive(self, name: str) -> bool:
        """A scalar drawn only positive (`log_uniform`: α > 0 in ex2)."""
        spec = self.symbols.get(name)
        return spec is not None and spec.shape == "scalar" and isinstance(spec.sample, dict) and "log_uniform" in spec.sample

    def axis(self, index: str) -> int:
        return LEAD + self.index_names.index(index)

    def family_of(self, index: str) -> str:
        for family, names in self.families.items():
            if index in names:
                return family
        raise MathError(f"'{index}' is not an index")

    @cached_property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary(
            symbols=frozenset(self.symbols),
            functions=frozenset(self.functions),
            indices=frozenset(self.index_names),
            components=self.components,
            applications=tuple((head, arg, symbol) for head, (arg, symbol) in self.applications.items()),
        )

    @property
    def ndim(self) -> int:
        return LEAD + len(self.index_names) + 2

    @cached_property
    def derived_trees(self) -> dict[str, Node]:
        from graders.engines.math.lines import parse_expression

        trees = {}
        for name, spec in self.symbols.items():
            if spec.derived:
                objective, tree = parse_expression(spec.derived, self.vocabulary)
                trees[name] = tree
        return trees

    def depends_on(self, name: str) -> frozenset[str]:
        """Base symbols a (derived) symbol depends on."""
        return self.dependency_map.get(name, frozenset({name}))

    @cached_property
    def dependency_map(self) -> dict[str, frozenset[str]]:
        from graders.engines.math.tree import symbols as used

        def resolve(name: str, seen: frozenset[str]) -> frozenset[str]:
            if name not in self.derived_trees:
                return frozenset({name})
            if name in seen:
                raise ValueError(f"math.yaml: {name} is defined in terms of itself")
            out: set[str] = set()
            for dep in used(self.derived_trees[name]):
                out |= resolve(dep, seen | {name})
            return frozenset(out)

        return {name: resolve(name, frozenset()) for name in self.derived_trees}

    @cached_property
    def instances(self) -> list["Env"]:
        """One environment per group, sampled once per process (seeded: grading is repeatable)."""
        rng = np.random.default_rng(self.seed)
        return [Env(self, g, sample_group(self, g, rng)) for g in self.groups]

    def variant(self, env: "Env", names: list[str], seed: int) -> "Env":
        """The same instantiations with `names` drawn afresh (to see what a difference depends on)."""
        rng = np.random.default_rng([self.seed, seed])
        fresh = sample_group(self, env.group, rng, only=set(names))
        return env.replace(fresh)


class ValueCache(OrderedDict):
    """Values of recently evaluated trees (targets and answers), bounded so a long-running
    worker does not grow without limit."""

    def __init__(self, limit: int = 2048) -> None:
        super().__init__()
        self.limit = limit
        self.lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        with self.lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
            return default

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self[key] = value
            if len(self) > self.limit:
                self.popitem(last=False)


class Env:
    """One group's instantiations: base arrays, function symbols, and lazily derived symbols."""

    def __init__(self, space: Space, group: dict[str, int], base: dict[str, Any]) -> None:
        self.space = space
        self.group = group
        self.base = base
        self.derived: dict[str, np.ndarray] = {}
        self.cache = ValueCache()
        self.batch = space.datasets * space.draws

    def size(self, family: str) -> int:
        return int(self.group[family])

    def value(self, name: str) -> Any:
        if name in self.base:
            return self.base[name]
        if name not in self.derived:
            from graders.engines.math.evaluate import evaluate

            self.derived[name] = evaluate(self.space.derived_trees[name], self)
        return self.derived[name]

    def replace(self, overrides: dict[str, Any]) -> "Env":
        env = Env(self.space, self.group, {**self.base, **overrides})
        changed = set(overrides)
        env.derived = {k: v for k, v in self.derived.items() if not (self.space.depends_on(k) & changed)}
        return env


# -- sampling ------------------------------------------------------------------------------

def _shape(space: Space, group: dict[str, int], spec: SymbolSpec, batch: int) -> tuple[int, ...]:
    shape = [batch] + [1] * (space.ndim - 1)
    if spec.family is not None:
        shape[space.axis(space.families[spec.family][0])] = group[spec.family]
    if spec.shape == "vector":
        shape[-2] = group["d"]
    return tuple(shape)


def _per_dataset(space: Space, array: np.ndarray) -> np.ndarray:
    return np.repeat(array, space.draws, axis=0)


def _sample_symbol(space: Space, group: dict[str, int], spec: SymbolSpec, rng: np.random.Generator) -> np.ndarray:
    count = space.datasets * space.draws if spec.variable else space.datasets
    shape = _shape(space, group, spec, count)
    kind, options = (spec.sample, {}) if isinstance(spec.sample, str) else next(iter(spec.sample.items()))
    options = options or {}
    if spec.size_of is not None:
        value = np.full(shape, float(group[spec.size_of]))
    elif kind == "normal":
        value = rng.standard_normal(shape)
        if "norms" in options:
            lo, hi = options["norms"]
            norms = rng.permutation(np.geomspace(lo, hi, count)).reshape((count,) + (1,) * (len(shape) - 1))
            value = value / np.linalg.norm(value, axis=(-2, -1), keepdims=True) * norms
    elif kind == "unit":
        value = rng.standard_normal(shape)
        value /= np.linalg.norm(value, axis=(-2, -1), keepdims=True)
    elif kind == "equal":
        value = rng.standard_normal((count,) + (1,) * (len(shape) - 1)) * np.ones(shape)
    elif kind == "log_uniform":
        lo, hi = options if isinstance(options, list) else options["range"]
        value = np.exp(rng.uniform(np.log(lo), np.log(hi), shape))
    elif kind == "centred":
        axis = space.axis(space.families[spec.family][0])
        scales = np.geomspace(2.0, 0.5, group["d"]).reshape((1,) * (len(shape) - 2) + (group["d"], 1))
        value = rng.standard_normal(shape) * scales
        value -= value.mean(axis=axis, keepdims=True)
    else:
        raise ValueError(f"math.yaml: unknown sampler {kind!r} for {spec.name}")
    return value if spec.variable else _per_dataset(space, value)


def _rotation(d: int, count: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((count, d, d)))
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]
    flip = np.linalg.det(q) < 0
    q[flip, :, 0] *= -1
    return q


def _sample_function(space: Space, group: dict[str, int], spec: FunctionSpec, rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    d = group["d"]
    count = space.datasets * space.draws if spec.variable else space.datasets
    lead = (1,) * (space.ndim - 3)

    def expand(a: np.ndarray) -> np.ndarray:
        a = a if spec.variable else _per_dataset(space, a)
        return a.reshape((a.shape[0],) + lead + a.shape[1:])

    if spec.sample == "rotation":
        rot = expand(_rotation(d, count, rng))
        return lambda v: rot @ v
    if spec.sample == "smooth_map":
        inner = expand(rng.standard_normal((count, d, d)) / np.sqrt(d))
        outer = expand(rng.standard_normal((count, d, d)) / np.sqrt(d))
        shift = expand(rng.standard_normal((count, d, 1)))
        return lambda v: 1.5 * np.tanh(inner @ v + shift) + outer @ v
    raise ValueError(f"math.yaml: unknown function sampler {spec.sample!r} for {spec.name}")


def sample_group(space: Space, group: dict[str, int], rng: np.random.Generator, only: set[str] | None = None) -> dict[str, Any]:
    base: dict[str, Any] = {}
    for name, spec in space.symbols.items():
        if spec.derived is None and (only is None or name in only):
            base[name] = _sample_symbol(space, group, spec, rng)
    for name, fspec in space.functions.items():
        if only is None or name in only:
            base[name] = _sample_function(space, group, fspec, rng)
    return base


_SPACES: dict[Path, Space] = {}


def load_space(folder: Path) -> Space:
    """The exercise's space, loaded and sampled once per process."""
    path = (Path(folder) / "math.yaml").resolve()
    if path not in _SPACES:
        _SPACES[path] = Space.load(path)
    return _SPACES[path]
