"""Checking a derivation the way a TA does: where it starts, where it ends, and every step.

Each line is checked against the line before it; when that fails it is also checked against
the last line still consistent with the start, so one slip is reported once and the correct
lines after it keep their credit, and against the start quantity itself by the weakest relation
used so far (a chain `p ∝ A = B` says p = B up to a factor, whatever A is).

A step that holds only by a weaker relation than the one written (`=` where only ∝ or ≃ holds)
is a wrong relation symbol, not a wrong step: it keeps its credit and costs
`wrong_relation_penalty`. A last line that follows only from the first line (start, then the
result to be shown) restates the claim: it reaches the end but shows no work."""
from __future__ import annotations

from dataclasses import dataclass

from graders.engines.math.lines import Line
from graders.engines.math.relations import Form, Judge, Verdict, pretty
from graders.engines.math.render import latex_line
from graders.engines.math.tree import MathError, Sym, symbols

_STRENGTH = {"=": 0, "∝": 1, "≃": 2, "⇒": 2}
_WEAKER = {"=": ("∝", "≃"), "∝": ("≃",)}


@dataclass(frozen=True)
class DerivationRules:
    start: Form
    start_text: str
    end: Form
    end_text: str
    weight_start: float
    weight_end: float
    weight_steps: float
    invalid_step_penalty: float
    min_steps: int
    end_uses: frozenset[str] = frozenset()  # symbols the last line must be written with (τ)
    end_relations: tuple[str, ...] = ("=",)  # how the last line may relate to `end`
    wrong_relation_penalty: float = 0.2  # a valid step written with a too strong relation


@dataclass
class StepReport:
    number: int
    text: str
    ok: bool
    reason: str = ""
    concludes: bool = False  # a valid "⇒ argmax" step: the end is reached, no work is shown
    repeats: bool = False  # the same expression as the line before: no work is shown
    weak: str = ""  # the weaker relation that holds when the written one does not


@dataclass
class DerivationReport:
    fraction: float
    feedback: str
    unreadable: bool


def _weakest(rels: list[str]) -> str:
    rel = max(rels, key=lambda r: _STRENGTH[r])
    return "≃" if rel == "⇒" else rel


def _weaker(judge: Judge, rel: str, old: Form, new: Form) -> str:
    """The weaker relation that holds where `rel` does not ("" when none does)."""
    for weaker in _WEAKER.get(rel, ()):
        if weaker == "≃" and not judge.space.variables:
            continue
        if _safe(judge, weaker, old, new).ok:
            return weaker
    return ""


def _safe(judge: Judge, rel: str, old: Form, new: Form) -> Verdict:
    try:
        return judge.check(rel, old, new)
    except MathError as exc:
        return Verdict(False, str(exc))


def check_derivation(lines: tuple[Line, ...], rules: DerivationRules, judge: Judge) -> DerivationReport:
    notes: list[str] = []
    echo = [
        f"Line {k + 1}{' (' + l.rel + ')' if l.rel else ''}: "
        + (f"{l.label}: names {rules.start_text}" if l.names_start else f"read as ${(l.definition and _name(l.definition) + ' = ' or '') + latex_line(l.objective, l.tree)}$" if l.tree is not None else f"could not be read: {l.error}")
        for k, l in enumerate(lines)
    ]
    steps: list[StepReport] = []
    defined: set[str] = set()
    for k, line in enumerate(lines):
        if line.definition is not None and line.tree is not None:
            verdict = _safe(judge, "=", Form(None, Sym(line.definition)), Form(None, line.tree))
            if verdict.ok:
                defined.add(line.definition)
            steps.append(StepReport(k + 1, echo[k], verdict.ok, "" if verdict.ok else f"this is not {pretty(line.definition)} ({verdict.reason})"))
    chain = [k for k, l in enumerate(lines) if l.definition is None]
    if not chain:
        return DerivationReport(0.0, "\n".join(echo + ["✗ There is no derivation to check."]), False)
    forms: dict[int, Form | None] = {k: Form(lines[k].objective, lines[k].tree) if lines[k].tree is not None else None for k in chain}
    forms.update({k: rules.start for k in chain if lines[k].names_start})
    head = chain[0]
    first = forms[head]
    start = _safe(judge, lines[head].start_rel or "=", rules.start, first) if first is not None else Verdict(False, lines[head].error or "")
    if start.ok and first is not None and set(judge.variables_of(first.tree)) != set(judge.variables_of(rules.start.tree)):
        start = Verdict(False, "it must still be the problem over " + ", ".join(map(pretty, judge.variables_of(rules.start.tree))))
    if start.ok:
        notes.append(f"✓ It starts at {rules.start_text}.")
    else:
        notes.append(f"✗ The first line is not {rules.start_text} ({start.reason}).")
    anchored = {head: start.ok}
    anchor: int | None = head if start.ok else None
    last_k = chain[-1]
    last = forms[last_k]
    end = _check_end(rules, judge, last, defined)
    for prev_k, k in zip(chain, chain[1:]):
        line, form, prev = lines[k], forms[k], forms[prev_k]
        if form is None:
            steps.append(StepReport(k + 1, echo[k], False, "the line could not be read"))
            anchored[k] = False
            continue
        verdict = _safe(judge, line.rel, prev, form) if prev is not None else Verdict(False, "the previous line could not be read")
        anchored[k] = verdict.ok and anchored[prev_k]
        from_head = prev_k == head
        if not verdict.ok and anchor is not None and anchor != prev_k and forms[anchor] is not None:
            rel = _weakest([lines[j].rel for j in chain if anchor < j <= k])
            recovered = _safe(judge, rel, forms[anchor], form)
            if recovered.ok:
                verdict = recovered
                anchored[k] = True
                from_head = anchor == head
        if not verdict.ok and start.ok:
            # Every line of the chain stands for the start quantity (p(c|x), J) up to the
            # relations used so far: `p ∝ A`, then `= B` with B the softmax itself is a valid
            # step although A ≠ B.
            rel = _weakest([lines[head].start_rel or "="] + [lines[j].rel for j in chain if head < j <= k])
            recovered = _safe(judge, rel, rules.start, form)
            if recovered.ok:
                verdict = recovered
                anchored[k] = True
        weak = ""
        if not verdict.ok and prev is not None:
            weak = _weaker(judge, line.rel, prev, form)
            if weak:
                verdict = Verdict(True, verdict.reason if f"use {weak}" in verdict.reason.replace("\\propto", "∝") else f"it holds only as {weak}, not {line.rel}: use {weak}")
                anchored[k] = anchored[prev_k]
                from_head = False
        restates = verdict.ok and k == last_k and from_head and end.ok and line.rel != "⇒"
        repeats = verdict.ok and form == prev
        steps.append(StepReport(k + 1, echo[k], verdict.ok, verdict.reason, concludes=verdict.ok and line.rel == "⇒" or restates,
                                repeats=repeats, weak=weak))
        if restates:
            notes.append(f"Line {k + 1} only restates the result to be shown after line {head + 1}: it shows no work.")
        if anchored[k]:
            anchor = k
    invalid = [s for s in steps if not s.ok]
    weak = [s for s in steps if s.weak]
    # Valid steps earn their share (at least `min_steps` are expected); each invalid one costs more.
    # A concluding "⇒ argmax" is credited as reaching the end, not as shown work: jumping from
    # the start straight to the conclusion shows none.
    # A line that repeats the one before it is no step either (padding earns nothing).
    n_steps = sum(not (s.concludes or s.repeats) for s in steps)
    # A wrong last line that misses the end is one slip: it loses its share and the end's weight,
    # not also the penalty of a wrong step.
    penalised = len(invalid) - (not end.ok and bool(invalid) and invalid[-1].number == last_k + 1)
    step_credit = 0.0
    if n_steps:
        valid_share = (n_steps - len(invalid)) / max(n_steps, rules.min_steps)
        step_credit = max(0.0, valid_share - rules.invalid_step_penalty * penalised - rules.wrong_relation_penalty * len(weak))
    fraction = rules.weight_start * start.ok + rules.weight_end * end.ok + rules.weight_steps * step_credit
    if invalid:
        fraction = min(fraction, 1.0 - rules.weight_steps * rules.invalid_step_penalty)
    if weak:
        fraction = min(fraction, 1.0 - rules.weight_steps * rules.wrong_relation_penalty)
    for step in steps:
        echo[step.number - 1] += f"  ✗ {step.reason}" if step.weak or not step.ok else "  ✓"
    wrong = sorted(invalid + weak, key=lambda s: s.number)
    if wrong:
        first_bad = wrong[0]
        notes.append(f"✗ First wrong step: line {first_bad.number}: {first_bad.reason}." + (
            f" ({len(wrong) - 1} more step(s) not valid.)" if len(wrong) > 1 else ""))
    elif n_steps:
        notes.append("✓ Every step is valid.")
    if weak:
        notes.append("A wrong relation symbol costs less than a wrong step: " + ", ".join(f"line {s.number} holds as {s.weak}" for s in weak) + ".")
    if n_steps < rules.min_steps:
        notes.append(f"Show the intermediate steps (at least {rules.min_steps} steps).")
    if end.ok:
        notes.append(f"✓ It ends at {rules.end_text}.")
    else:
        reason = end.reason.replace("from the previous line", "from it").replace("the previous one", "the result")
        notes.append(f"✗ The last line is not {rules.end_text}" + (f" ({reason})." if reason else "."))
    unreadable = any(l.tree is None and not l.names_start for l in lines)
    feedback = "\n".join(echo + notes)
    return DerivationReport(max(0.0, min(1.0, fraction)), feedback, unreadable)


def _check_end(rules: DerivationRules, judge: Judge, last: Form | None, defined: set[str]) -> Verdict:
    if last is None:
        return Verdict(False, "")
    if rules.end.objective is not None:
        if last.objective is None or last.objective.kind != rules.end.objective.kind:
            return Verdict(False, f"the last line must be the {'maximisation' if rules.end.objective.kind == 'max' else 'minimisation'} itself")
        return _safe(judge, "≃", rules.end, last)
    verdict = Verdict(False, "")
    for rel in rules.end_relations:
        verdict = _safe(judge, rel, rules.end, last)
        if verdict.ok:
            break
    if not verdict.ok:
        return verdict
    missing = sorted(rules.end_uses - symbols(last.tree) - defined)
    if missing:
        return Verdict(False, f"it must be written with {', '.join(pretty(m) for m in missing)}")
    return verdict


def _name(symbol: str) -> str:
    from graders.engines.math.render import latex

    return latex(Sym(symbol))
