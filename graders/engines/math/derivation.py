"""Checking a derivation the way a TA does: where it starts, where it ends, and every step.

Each line is checked against the line before it; when that fails it is also checked against
the last line still consistent with the start, so one slip is reported once and the correct
lines after it keep their credit."""
from __future__ import annotations

from dataclasses import dataclass

from graders.engines.math.lines import Line
from graders.engines.math.relations import Form, Judge, Verdict, pretty
from graders.engines.math.render import latex_line
from graders.engines.math.tree import MathError, symbols

REL_NAMES = {"=": "=", "∝": "\\propto", "≃": "\\simeq", "⇒": "\\Rightarrow"}
_STRENGTH = {"=": 0, "∝": 1, "≃": 2, "⇒": 2}


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


@dataclass
class StepReport:
    number: int
    text: str
    ok: bool
    reason: str = ""


@dataclass
class DerivationReport:
    fraction: float
    feedback: str
    unreadable: bool


def _weakest(rels: list[str]) -> str:
    rel = max(rels, key=lambda r: _STRENGTH[r])
    return "≃" if rel == "⇒" else rel


def _safe(judge: Judge, rel: str, old: Form, new: Form) -> Verdict:
    try:
        return judge.check(rel, old, new)
    except MathError as exc:
        return Verdict(False, str(exc))


def check_derivation(lines: tuple[Line, ...], rules: DerivationRules, judge: Judge) -> DerivationReport:
    notes: list[str] = []
    forms: list[Form | None] = [Form(l.objective, l.tree) if l.tree is not None else None for l in lines]
    echo = [
        f"Line {k + 1}{' (' + REL_NAMES[l.rel] + ')' if l.rel else ''}: "
        + (f"read as ${latex_line(l.objective, l.tree)}$" if l.tree is not None else f"could not be read: {l.error}")
        for k, l in enumerate(lines)
    ]
    first = forms[0]
    start = _safe(judge, lines[0].start_rel or "=", rules.start, first) if first is not None else Verdict(False, lines[0].error or "")
    if start.ok:
        notes.append(f"✓ It starts at {rules.start_text}.")
    else:
        notes.append(f"✗ The first line is not {rules.start_text} ({start.reason}).")
    anchored = [start.ok] + [False] * (len(lines) - 1)
    anchor: int | None = 0 if start.ok else None
    steps: list[StepReport] = []
    for k in range(1, len(lines)):
        line, form, prev = lines[k], forms[k], forms[k - 1]
        if form is None:
            steps.append(StepReport(k + 1, echo[k], False, "the line could not be read"))
            continue
        verdict = _safe(judge, line.rel, prev, form) if prev is not None else Verdict(False, "the previous line could not be read")
        if verdict.ok:
            anchored[k] = anchored[k - 1]
        elif anchor is not None and anchor != k - 1 and forms[anchor] is not None:
            rel = _weakest([l.rel for l in lines[anchor + 1:k + 1]])
            recovered = _safe(judge, rel, forms[anchor], form)
            if recovered.ok:
                verdict = recovered
                anchored[k] = True
        steps.append(StepReport(k + 1, echo[k], verdict.ok, verdict.reason))
        if anchored[k]:
            anchor = k
    last = forms[-1]
    end = _safe(judge, "=" if rules.end.objective is None else "≃", rules.end, last) if last is not None else Verdict(False, "")
    if rules.end.objective is not None and last is not None and (last.objective is None or last.objective.kind != rules.end.objective.kind):
        end = Verdict(False, f"the last line must be the {'maximisation' if rules.end.objective.kind == 'max' else 'minimisation'} itself")
    missing = sorted(rules.end_uses - (symbols(last.tree) if last is not None else set()))
    if end.ok and missing:
        end = Verdict(False, f"it must be written with {', '.join(pretty(m) for m in missing)}")
    invalid = [s for s in steps if not s.ok]
    n_steps = len(steps)
    # Valid steps earn their share (at least `min_steps` are expected); each invalid one costs more.
    step_credit = 0.0
    if n_steps:
        valid_share = (n_steps - len(invalid)) / max(n_steps, rules.min_steps)
        step_credit = max(0.0, valid_share - rules.invalid_step_penalty * len(invalid))
    fraction = rules.weight_start * start.ok + rules.weight_end * end.ok + rules.weight_steps * step_credit
    if invalid:
        fraction = min(fraction, 1.0 - rules.weight_steps * rules.invalid_step_penalty)
    for step in steps:
        echo[step.number - 1] += "  ✓" if step.ok else f"  ✗ {step.reason}"
    if invalid:
        first_bad = invalid[0]
        notes.append(f"✗ First wrong step: line {first_bad.number}: {first_bad.reason}." + (
            f" ({len(invalid) - 1} more step(s) not valid.)" if len(invalid) > 1 else ""))
    elif n_steps:
        notes.append("✓ Every step is valid.")
    if n_steps < rules.min_steps:
        notes.append(f"Show the intermediate steps (at least {rules.min_steps} steps).")
    if end.ok:
        notes.append(f"✓ It ends at {rules.end_text}.")
    else:
        reason = end.reason.replace("from the previous line", "from it").replace("the previous one", "the result")
        notes.append(f"✗ The last line is not {rules.end_text}" + (f" ({reason})." if reason else "."))
    unreadable = any(l.tree is None for l in lines)
    feedback = "\n".join(echo + notes)
    return DerivationReport(max(0.0, min(1.0, fraction)), feedback, unreadable)
