"""The math engine's entry point: `make_checker(item, folder)` turns a rubric item's `check:`
block into a checker (answer → Mark). Targets are parsed and the exercise's instantiations
sampled once per process; an answer costs one parse and a few batched evaluations.

check parameters (all data in rubric.yaml):
  kind: expression | derivation          (default: the item's type)
  expression:  target (math text) and relation "=" | "max" (same maximisers over the exercise's
               variables: a positive factor and a constant are free) | "positive_multiple";
               or reference: NAME with params (values computed by `reference/`);
               forbid: [symbols], hints: [{expr, feedback}], wrong: generic feedback,
               partial: [{expr, fraction, feedback}] (partly right answers, compared like hints:
               by the item's relation when it is positive_multiple, else equal),
               per_sample: true (an answer written for one bare sample, ‖x − f(r(x))‖², is read
               as that loss averaged over the data, E_i[‖x_i − f(r(x_i))‖²]),
               any_log_base: true (a reference value may be given with log_b, e.g. in bits)
               one_sign_fraction: credit for `\\pm v` when exactly one sign is right (default 0.5);
               an equation `x^k = v` for a forbidden symbol x sampled positive is read as x = v^(1/k)
  derivation:  start, end (math text; `argmax_u ...` for an optimisation), weights
               {start, end, steps}, invalid_step_penalty, min_steps, start_text, end_text,
               end_uses: [symbols the last line must be written with, or define: \\Rightarrow \\tau = ...],
               end_relations: ["=", "prop"] (how the last line may relate to `end`)
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from graders.engines.math.derivation import DerivationRules, check_derivation
from graders.engines.math.exact import exactly_equal
from graders.engines.math.lines import parse_derivation, parse_equation, parse_expression
from graders.engines.math.relations import Form, Judge, Verdict, _close, pretty
from graders.engines.math.render import latex, read_as
from graders.engines.math.space import Env, Space, load_space
from graders.engines.math.tree import Div, Func, MathError, Node, Num, Pow, Sum, Sym, rebuild, size, symbols, walk
from graders.marks import Mark
from graders.rubric import ItemSpec
from reference.cosine_softmax import entropy_at_temperature

_JUDGES: dict[int, Judge] = {}
# `\\pm` or `±` (not `\\pmb`): an answer given with both signs.
PLUS_MINUS = re.compile(r"\\pm(?![A-Za-z])|±")
VECTOR_SQUARE_NOTE = "read (v)² of a vector v as its squared norm ‖v‖²"


def judge_for(space: Space) -> Judge:
    if id(space) not in _JUDGES:
        _JUDGES[id(space)] = Judge(space)
    return _JUDGES[id(space)]


def _cosine_softmax_entropy(env: Env, params: dict[str, Any]) -> np.ndarray:
    """H[p(·|x)] of softmax(cos(w_c, z)/τ) at the given τ, per instantiation (reference/)."""
    space = env.space
    z = np.asarray(env.value("z"))[:, 0, ..., 0].reshape(env.batch, -1)
    class_axis = space.axis(space.families[space.symbols["w"].family][0])
    w = np.moveaxis(np.asarray(env.value("w"))[..., 0], class_axis, 1)[:, :, 0].reshape(env.batch, env.size(space.symbols["w"].family), -1)
    values = np.array([entropy_at_temperature(z[b:b + 1], w[b], float(params["tau"]))[0] for b in range(env.batch)])
    return values.reshape((env.batch,) + (1,) * (space.ndim - 1))


REFERENCES: dict[str, Callable[[Env, dict[str, Any]], np.ndarray]] = {
    "cosine_softmax_entropy": _cosine_softmax_entropy,
}


def per_sample_mean(tree: Node, space: Space) -> Node | None:
    """`‖x − f(r(x))‖²` with the data symbol bare and no sum: the loss of one sample, read as
    its mean over the data (E_i[‖x_i − f(r(x_i))‖²]); None when the answer is not of that form."""
    nodes = list(walk(tree))
    bare = {n.name for n in nodes if isinstance(n, Sym) and n.index is None and n.name in space.symbols
            and space.symbols[n.name].family is not None and space.symbols[n.name].unindexed is None}
    if not bare or any(isinstance(n, Sum) for n in nodes):
        return None
    families = {space.symbols[name].family for name in bare}
    if len(families) != 1:
        return None
    index = space.families[families.pop()][0]
    if any(isinstance(n, Sym) and n.index is not None for n in nodes if isinstance(n, Sym) and n.name in bare):
        return None  # x beside x_i: not one sample's loss
    body = rebuild(tree, lambda n: replace(n, index=index) if isinstance(n, Sym) and n.name in bare and n.index is None else n)
    return Sum(index, body, mean=True)


def _scalars(space: Space) -> frozenset[str]:
    return frozenset(n for n, s in space.symbols.items() if s.shape == "scalar" and s.family is None and s.derived is None)


class ExpressionChecker:
    def __init__(self, item: ItemSpec, space: Space) -> None:
        check = item.check
        self.space = space
        self.judge = judge_for(space)
        self.vocab = space.vocabulary
        self.relation = check.get("relation", "=")
        self.forbid = set(check.get("forbid", []))
        self.wrong = check.get("wrong", "This is not the expected expression.")
        self.target: Node | None = parse_expression(check["target"], self.vocab)[1] if "target" in check else None
        self.reference: list[np.ndarray] | None = None
        if "reference" in check:
            compute = REFERENCES[check["reference"]]
            self.reference = [compute(env, check.get("params", {})) for env in self.judge.envs]
        self.hints = [(parse_expression(h["expr"], self.vocab)[1], h["feedback"]) for h in check.get("hints", [])]
        self.partial = [(parse_expression(h["expr"], self.vocab)[1], float(h["fraction"]), h["feedback"]) for h in check.get("partial", [])]
        self.per_sample = bool(check.get("per_sample", False))
        self.exact = bool(check.get("exact", False))
        self.any_log_base = bool(check.get("any_log_base", False))
        self.max_variables = tuple(check.get("variables", space.variables))
        self.one_sign_fraction = float(check.get("one_sign_fraction", 0.5))

    def __call__(self, answer: Any) -> Mark:
        text = str(answer)
        if PLUS_MINUS.search(text):
            return self._both_signs(text)
        note = ""
        try:
            objective, tree = parse_expression(text, self.vocab)
        except MathError as exc:
            solved = self._solved_for_unknown(text)
            if solved is None:
                return Mark(0.0, f"Could not read the expression: {exc}.", needs_review=True)
            (objective, tree), note = solved
        mark = self._grade(objective, tree)
        return replace(mark, feedback=note + mark.feedback) if note else mark

    def _solved_for_unknown(self, text: str) -> tuple[tuple[None, Node], str] | None:
        """`\\alpha^2 = 1` for the unknown α (a forbidden symbol, sampled positive): its positive
        root, as a TA reads it given α > 0."""
        equation = parse_equation(text, self.vocab)
        if equation is None:
            return None
        lhs, rhs = equation
        if not (isinstance(lhs, Pow) and isinstance(lhs.base, Sym) and lhs.base.name in self.forbid
                and isinstance(lhs.exp, Num) and lhs.exp.value > 0 and self.space.positive(lhs.base.name)):
            return None
        name = pretty(lhs.base.name)
        return (None, Pow(rhs, Div(Num(1.0, "1"), lhs.exp))), f"Solved for {name} > 0: {name} = ({latex(rhs)})^{{1/{lhs.exp.text}}}. "

    def _both_signs(self, text: str) -> Mark:
        """`\\alpha = \\pm 1`: both signs are graded; one right sign earns `one_sign_fraction`."""
        marks = []
        for sign in ("+", "-"):
            try:
                marks.append(self._grade(*parse_expression(PLUS_MINUS.sub(sign, text), self.vocab)))
            except MathError as exc:
                return Mark(0.0, f"Could not read the expression: {exc}.", needs_review=True)
        right = [sign for sign, m in zip("+-", marks) if m.fraction == 1.0]
        if len(right) == 2:
            return marks[0]
        if len(right) == 1:
            return Mark(self.one_sign_fraction, f"With {right[0]}: {marks['+-'.index(right[0])].feedback} ✗ Only that sign is right: give the one value.")
        return Mark(0.0, f"Neither sign is right. With +: {marks[0].feedback}")

    def _grade(self, objective: Any, tree: Node) -> Mark:
        tree, squared = self.judge.read_vector_squares(tree)
        sample_mean = per_sample_mean(tree, self.space) if self.per_sample else None
        tree = sample_mean or tree
        notes = [VECTOR_SQUARE_NOTE] * squared + ["one sample's loss, read as its mean over the data"] * (sample_mean is not None)
        echo = "R" + read_as(objective, tree)[1:] + (f" ({'; '.join(notes)})." if notes else ".")
        used = {pretty(s) for s in symbols(tree) & self.forbid}
        if used:
            return Mark(0.0, f"{echo} ✗ It may not use {', '.join(sorted(used))} itself.")
        if objective is not None and self.relation == "=":
            return Mark(0.0, f"{echo} ✗ Give the value itself, without argmax/argmin.")
        if objective is not None and self.relation == "positive_multiple" and objective.kind != "min":
            return Mark(0.0, f"{echo} ✗ The objective is minimised, not maximised.")
        try:
            verdict = self.verdict(objective, tree)
        except MathError as exc:
            return Mark(0.0, f"{echo} ✗ {exc}.")
        if verdict.ok:
            return Mark(1.0, f"{echo} ✓ Correct{' (' + verdict.reason + ')' if verdict.reason else ''}.")
        for partial_tree, fraction, feedback in self.partial:
            try:
                match = (self.judge.positive_multiple if self.relation == "positive_multiple" else self.judge.equal)(partial_tree, tree)
            except MathError:
                continue
            if match.ok:
                return Mark(fraction, f"{echo} ✗ Partly right: {feedback}")
        for hint_tree, feedback in self.hints:
            try:
                if self.judge.equal(hint_tree, tree).ok:
                    return Mark(0.0, f"{echo} ✗ {feedback}")
            except MathError:
                continue
        reason = f" ({verdict.reason})" if verdict.reason else ""
        return Mark(0.0, f"{echo} ✗ {self.wrong}{reason}")

    def verdict(self, objective: Any, tree: Node) -> Verdict:
        if self.reference is not None:
            # An entropy in bits is the same answer in other units: log_b scales it by 1/ln b.
            bases = {n.args[1].value for n in walk(tree) if isinstance(n, Func) and n.name == "logb"}
            unit = float(np.log(next(iter(bases)))) if self.any_log_base and len(bases) == 1 else 1.0
            for env, expected in zip(self.judge.envs, self.reference):
                value = self.judge.values(tree, env)
                if value.shape[-2:] != (1, 1):
                    return Verdict(False, "the answer must be a number")
                if not _close(expected, value * unit):
                    return Verdict(False)
            return Verdict(True, _unit_name(next(iter(bases))) if unit != 1.0 else "")
        assert self.target is not None
        if self.relation == "=":
            verdict = self.judge.equal(self.target, tree)
            if not verdict.ok:
                return Verdict(False)
            if self.exact:
                # Numerically equal: sympy confirms exactly (1.0000001 is not 1) when it can decide in time.
                decided = exactly_equal(self.target, tree, _scalars(self.space), size(tree))
                if decided is False:
                    return Verdict(False, "it is close to the right value but not exactly equal")
            return verdict
        if self.relation == "max":
            from graders.engines.math.parser import Objective

            wanted = Form(Objective("max", self.max_variables), self.target)
            given = Form(objective or Objective("max", self.max_variables), tree)
            if objective is not None and objective.kind != "max":
                return Verdict(False, "this is a minimisation")
            extra = [v for v in self.judge.variables_of(tree) if v not in self.max_variables]
            if extra:
                return Verdict(False, f"it still depends on {', '.join(pretty(v) for v in extra)}")
            return self.judge.same_minimisers(wanted, given)
        if self.relation == "positive_multiple":
            return self.judge.positive_multiple(self.target, tree)
        raise ValueError(f"unknown relation {self.relation!r}")


def _unit_name(base: float) -> str:
    names = {2.0: "in bits", 10.0: "in decimal digits (base-10 logarithm)"}
    return names.get(base, f"in units of the base-{base:g} logarithm")


class DerivationChecker:
    def __init__(self, item: ItemSpec, space: Space) -> None:
        check = item.check
        self.space = space
        self.judge = judge_for(space)
        self.vocab = space.vocabulary
        weights = check.get("weights", {})
        start = parse_expression(check["start"], self.vocab)
        end = parse_expression(check["end"], self.vocab)
        self.rules = DerivationRules(
            start=Form(*start),
            start_text=check.get("start_text", "the start of the exercise"),
            end=Form(*end),
            end_text=check.get("end_text", "the result of the exercise"),
            weight_start=float(weights.get("start", 0.15)),
            weight_end=float(weights.get("end", 0.15)),
            weight_steps=float(weights.get("steps", 0.7)),
            invalid_step_penalty=float(check.get("invalid_step_penalty", 0.3)),
            min_steps=int(check.get("min_steps", 2)),
            end_uses=frozenset(check.get("end_uses", [])),
            end_relations=tuple({"prop": "∝", "=": "="}.get(r, r) for r in check.get("end_relations", ["="])),
        )
        total = self.rules.weight_start + self.rules.weight_end + self.rules.weight_steps
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"{item.id}: derivation weights add up to {total}, not 1")

    def __call__(self, answer: Any) -> Mark:
        try:
            lines = parse_derivation(answer, self.vocab)
        except MathError as exc:
            return Mark(0.0, f"Could not read the derivation: {exc}.", needs_review=True)
        if not lines:
            return Mark(0.0, "Not answered.")
        read = [self.judge.read_vector_squares(l.tree) if l.tree is not None else (None, False) for l in lines]
        lines = tuple(replace(l, tree=tree) for l, (tree, _) in zip(lines, read))
        report = check_derivation(lines, self.rules, self.judge)
        feedback = report.feedback + (f"\nNote: {VECTOR_SQUARE_NOTE}." if any(squared for _, squared in read) else "")
        return Mark(round(report.fraction, 4), feedback, needs_review=report.unreadable and report.fraction < 1)


def make_checker(item: ItemSpec, folder: Path) -> Callable[[Any], Mark]:
    space = load_space(folder)
    kind = item.check.get("kind", item.type)
    if kind == "derivation":
        return DerivationChecker(item, space)
    if kind == "expression":
        return ExpressionChecker(item, space)
    raise ValueError(f"{item.id}: the math engine has no kind {kind!r}")
