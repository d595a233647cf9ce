"""Grades one short answer against its rubric.

Two signals: concepts/misconceptions found by pattern or by example-phrase embedding (this sets
the points), and the whole answer's embedding similarity to the references (a holistic check).
Where they disagree, or a guard fired (negation, keyword list, contradiction, borderline
match), the mark goes to the TA review queue."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

from graders.engines.text import embedding
from graders.engines.text.language import clauses, has_negation, negated_at, normalise, structure
from graders.engines.text.spec import Signal, TextRubric
from graders.engines.text.spelling import Speller
from graders.marks import Mark

Scope = Literal["clauses", "whole"]
BORDERLINE = 0.04  # an embedding-only match this close to the threshold is flagged
LONG_ENOUGH_WORDS = 8  # shorter answers are always far from the references in embedding space
_LIST_SPLIT = re.compile(r"\s*(?:,|;|/|\+|&|\band\b|\bund\b|\bor\b|\boder\b)\s*")


@dataclass(frozen=True)
class Found:
    """How a signal showed up in an answer."""

    by: str | None = None  # "pattern" | "embedding" | None
    negated: bool = False  # it appeared only in negated form
    score: float = 0.0  # best clause-to-example cosine
    where: frozenset[int] = frozenset()  # the clauses that state it
    spans: frozenset[tuple[int, int, int]] = frozenset()  # (clause, start, end) of pattern matches

    @property
    def present(self) -> bool:
        return self.by is not None


def _tied(parts: list[str], span: tuple[int, int, int], wrong: tuple[int, int, int]) -> bool:
    """Whether a concept's match belongs to a stated wrong claim: the two matches overlap ("the
    angle only scales the confidence"), or share a clause with no comma between them ("affects
    the temperature of the GPU"). "becomes one-hot, with entropy log C" is two claims."""
    (i, start, end), (j, w_start, w_end) = span, wrong
    if i != j:
        return False
    if start < w_end and w_start < end:
        return True
    gap = parts[i][end:w_start] if end <= w_start else parts[i][w_end:start]
    return "," not in gap


class _Embedded:
    """An answer's embeddings, computed on first use: an answer that patterns decide on their own
    never needs the model (so a cold `autograder grade` of it does not load it)."""

    def __init__(self, units: list[str], whole: str) -> None:
        self.units, self.whole = units, whole

    @cached_property
    def _lookup(self) -> dict[str, np.ndarray]:
        texts = list(dict.fromkeys([*self.units, self.whole]))
        return dict(zip(texts, embedding.encode(texts)))

    @property
    def unit_vecs(self) -> np.ndarray:
        return np.stack([self._lookup[u] for u in self.units])

    @property
    def whole_vec(self) -> np.ndarray:
        return self._lookup[self.whole]


@dataclass
class Assessment:
    fraction: float
    concept_fraction: float
    similarity: float | None
    feedback: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)  # why a TA should look (not shown verbatim)

    def mark(self) -> Mark:
        text = " ".join(self.feedback)
        if self.review:
            text += " A TA will double-check this mark."
        return Mark(round(min(1.0, max(0.0, self.fraction)), 4), text, needs_review=bool(self.review))


class TextGrader:
    """A rubric plus the embeddings of its fixed phrases (computed on first use, once)."""

    def __init__(self, rubric: TextRubric, scope: Scope = "clauses") -> None:
        self.rubric = rubric
        self.scope = scope
        self._lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] | None = None

    @cached_property
    def speller(self) -> Speller:
        return Speller(self.rubric.vocabulary)

    def read(self, raw: str) -> str:
        """The answer as patterns and embeddings see it: normalised, typos corrected."""
        return self.speller.correct(normalise(raw))

    # -- embeddings of the rubric's phrases --------------------------------------------------
    def vectors(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            with self._lock:
                if self._vectors is None:
                    self._vectors = self._embed_rubric()
        return self._vectors

    def _embed_rubric(self) -> dict[str, np.ndarray]:
        matrix = embedding.encode_examples(self.rubric.example_texts)
        out: dict[str, np.ndarray] = {}
        start = len(self.rubric.references)
        out["@references"] = matrix[:start]
        for signal in self.rubric.signals:
            out[signal.id] = matrix[start:start + len(signal.examples)]
            start += len(signal.examples)
        return out

    # -- entry point ---------------------------------------------------------------------------
    def assess(self, answer: Any) -> Assessment:
        if self.rubric.kind == "list":
            entries = answer if isinstance(answer, list) else [answer]
            return self._assess_list([str(e) for e in entries if str(e).strip()])
        text = "\n".join(str(a) for a in answer) if isinstance(answer, list) else str(answer)
        return self._assess_text(text)

    def __call__(self, answer: Any) -> Mark:
        return self.assess(answer).mark()

    # -- free text -----------------------------------------------------------------------------
    def _assess_text(self, raw: str) -> Assessment:
        rb = self.rubric
        text = self.read(raw)
        parts = clauses(text)
        view = _Embedded(parts if self.scope == "clauses" else [text], text)

        feedback: list[str] = []
        review: list[str] = []
        covered, partly, missing, entangled = [], [], [], []
        # Pattern evidence first. A misconception stated in so many words is a wrong claim: a
        # concept named only inside it is not credited ("the norm decides the class, the angle
        # only scales the confidence"), and no embedding credit comes from its clauses ("the same
        # rotated images" resembles "the unrotated image").
        by_pattern = {c.id: self._find(c, parts, view, None) for c in rb.concepts}
        named = {cid for cid, f in by_pattern.items() if f.present}
        wrong_by_pattern = {w.id: self._find(w, parts, view, None) for w in rb.misconceptions
                            if w.applies(named)}
        wrong_clauses = frozenset().union(*(f.where for f in wrong_by_pattern.values()))
        wrong_spans = frozenset().union(*(f.spans for f in wrong_by_pattern.values()))

        def outside_wrong_claims(found: Found) -> bool:
            return any(not any(_tied(parts, span, wrong) for wrong in wrong_spans) for span in found.spans)

        present: set[str] = set()
        concept_fraction = 0.0
        for concept in rb.concepts:
            found = by_pattern[concept.id]
            if found.present and not outside_wrong_claims(found):
                entangled.append(concept.label)
                found = Found(negated=found.negated)
            half = 0.0
            if not found.present:
                forms = [form for form, signal in concept.partial_signals
                         if outside_wrong_claims(self._find(signal, parts, view, None))]
                half = max((form.credit for form in forms), default=0.0)
                full = self._find(concept, parts, view, rb.match, found.negated, skip=wrong_clauses)
                # a weaker idea in so many words beats an embedding guess ("similarity" is not
                # "cosine similarity", however close the vectors); a fragment does not
                if full.present and forms and not any(form.fragment for form in forms):
                    review.append(f"{concept.id}: weaker wording, but close to the full concept")
                    full = Found(score=full.score)
                if full.present:
                    half = 0.0
                found = full
            if found.present:
                present.add(concept.id)
                concept_fraction += concept.weight
                covered.append(concept.label)
                if found.by == "embedding" and found.score < rb.match + BORDERLINE:
                    review.append(f"borderline match for {concept.id}")
                continue
            if not half and not wrong_clauses and found.score >= rb.match - rb.near:
                review.append(f"possible paraphrase of {concept.id}")
            if half:
                concept_fraction += concept.weight * half
                partly.append(concept.label)
                missing.append(concept.missing)
            elif found.negated:
                feedback.append(f"Your answer denies a point the question needs ({concept.label}).")
                review.append(f"negated {concept.id}")
            else:
                missing.append(concept.missing)

        penalty = 0.0
        stated_wrong = False
        for wrong in rb.misconceptions:
            if not wrong.applies(present):
                continue
            found = wrong_by_pattern.get(wrong.id) or Found()
            if not found.present:
                found = self._find(wrong, parts, view, rb.misconception_match, found.negated)
            if found.present:
                stated_wrong = True
                feedback.append(wrong.feedback)
                if concept_fraction > 0:  # one wrong claim beside credit earned elsewhere
                    penalty += min(wrong.penalty, rb.side_claim_penalty)
                    review.append(f"misconception {wrong.id} beside credited concepts")
                else:
                    penalty += wrong.penalty
                if found.by == "embedding":
                    review.append(f"misconception {wrong.id} found by similarity only")
        fraction = max(0.0, concept_fraction - min(1.0, penalty))
        review += [f"doubt {d.id}" for d in rb.doubts if self._find(d, [text], view, None).present]

        shape = structure(text)
        if rb.kind == "explanation" and shape.is_keyword_list:
            if fraction > rb.keyword_list_cap:
                fraction = rb.keyword_list_cap
            feedback.append("This reads as a list of keywords, not an explanation: say how the ideas "
                            "connect to earn the points.")
            review.append("keyword list")

        # Similarity well above the concept score: a paraphrase the rubric may have missed, or a
        # negated/swapped answer. Well below it: keywords in an odd context; terse answers are
        # always far from the references, so that direction only counts for longer ones. An
        # answer that states a misconception outright is explained by it (or already flagged as
        # contradicting itself), and a terse one with full marks needs neither check.
        long_enough = shape.words >= LONG_ENOUGH_WORDS
        similarity = None
        if not review and not stated_wrong and (long_enough or fraction <= 1 - rb.disagreement):
            similarity = self.similarity_of(view)
            holistic = self._holistic(similarity)
            if holistic - fraction >= rb.disagreement or (fraction - holistic >= rb.disagreement and long_enough):
                review.append(f"concepts give {fraction:.2f}, similarity {holistic:.2f}")

        lines = []
        if fraction >= 0.999:
            lines.append("Correct.")
        elif fraction > 0:
            lines += [f"{head}: " + "; ".join(labels) + "." for head, labels
                      in (("Credited", covered), ("Partly credited", partly)) if labels]
        elif covered or partly:  # say what was seen, not "Credited", when the error below cancels it
            lines.append("Your answer addresses " + "; ".join(covered + partly)
                         + ", but the error below cancels that credit.")
        if entangled:
            lines.append("Your answer mentions " + "; ".join(entangled) + ", but only inside a claim that does not hold.")
        lines += feedback
        if missing and fraction < 0.999:
            lines.append("Missing: " + " ".join(missing))
        return Assessment(fraction, concept_fraction, similarity, lines, review)

    def similarity_of(self, view: "_Embedded") -> float:
        """The whole answer's best cosine to the rubric's references."""
        return float(np.max(self.vectors()["@references"] @ view.whole_vec))

    def similarity(self, answer: Any) -> float:
        text = self.read("\n".join(map(str, answer)) if isinstance(answer, list) else str(answer))
        return self.similarity_of(_Embedded([text], text))

    def _holistic(self, similarity: float) -> float:
        low, high = self.rubric.similarity.low, self.rubric.similarity.high
        return float(min(1.0, max(0.0, (similarity - low) / (high - low))))

    def _find(self, signal: Signal, parts: list[str], view: "_Embedded", threshold: float | None,
              negated: bool | None = None, skip: frozenset[int] = frozenset()) -> Found:
        """Patterns when `negated` is None (and only them when `threshold` is None): every clause
        that states the signal. Then example phrases by embedding, per unit (clause or whole
        answer), skipping negated units and the clauses in `skip`."""
        if negated is None:
            negated = False
            spans = set()
            for i, clause in enumerate(parts):
                for regex in signal.regexes:
                    for m in regex.finditer(clause):
                        # a group named `at` marks the claim itself, after a clause-wide condition
                        start, end = m.span("at") if "at" in regex.groupindex else m.span()
                        if negated_at(clause, start, end):
                            negated = True
                        else:
                            spans.add((i, start, end))
            if spans:
                return Found("pattern", where=frozenset(i for i, _, _ in spans), spans=frozenset(spans))
        if threshold is None or not signal.examples:
            return Found(negated=negated)
        if self.scope == "whole" and skip:
            return Found(negated=negated)
        sims = (view.unit_vecs @ self.vectors()[signal.id].T).max(axis=1)
        ranked = sorted((p for p in enumerate(sims) if p[0] not in skip), key=lambda p: -p[1])
        for i, sim in ranked:
            if sim < threshold:
                break
            if not has_negation(view.units[i]):
                return Found("embedding", score=float(sim), where=frozenset({i}))
            negated = True
        return Found(negated=negated, score=float(ranked[0][1]) if ranked else 0.0)

    # -- lists of applications -------------------------------------------------------------
    def _assess_list(self, entries: list[str]) -> Assessment:
        rb = self.rubric
        if len(entries) < rb.count:  # "compression, denoising and X" in one entry
            entries = [p for e in entries for p in _LIST_SPLIT.split(e) if p.strip()]
        graded = entries[:rb.count]
        feedback: list[str] = []
        review: list[str] = []
        if len(entries) > rb.count:
            feedback.append(f"Only the first {rb.count} entries are graded.")
        used: dict[str, str] = {}  # family id -> the entry that earned it
        for raw in graded:
            text = self.read(raw)
            view = _Embedded([text], text)
            candidates, uncertain = self._families(text, view)
            if uncertain:
                review.append(f"unsure about {raw!r}")
            if not candidates:
                wrong = next((w for w in rb.not_applications if self._find(w, [text], view, None).present), None)
                feedback.append(wrong.feedback.format(entry=raw) if wrong else
                                f"'{raw}' is not recognised as an application of autoencoders.")
                continue
            fresh = [f for f in candidates if f.id not in used]
            if fresh:
                used[fresh[0].id] = raw
            else:
                first = used[candidates[0].id]
                feedback.append(f"'{raw}' is the same application as '{first}' ({candidates[0].label}) "
                                "and counts once.")
        fraction = len(used) / rb.count
        head = "Correct." if fraction >= 0.999 else f"{len(used)} of {rb.count} distinct applications counted."
        return Assessment(fraction, fraction, None, [head, *feedback], review)

    def _families(self, text: str, view: "_Embedded") -> tuple[list[Signal], bool]:
        """The families an entry names (patterns first), and whether the call was a close one."""
        rb = self.rubric
        by_pattern = [f for f in rb.families if self._find(f, [text], view, None).present]
        if by_pattern:
            return by_pattern, False
        if any(self._find(w, [text], view, None).present for w in rb.not_applications):
            return [], False
        scored = sorted(((float((self.vectors()[f.id] @ view.whole_vec).max()), f) for f in rb.families
                         if f.examples), key=lambda p: -p[0])
        if not scored:
            return [], False
        best, family = scored[0]
        if best >= rb.match:
            return [family], best < rb.match + BORDERLINE
        return [], best >= rb.match - 2 * BORDERLINE
