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

    @property
    def present(self) -> bool:
        return self.by is not None


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
        text = normalise(raw)
        parts = clauses(text)
        view = _Embedded(parts if self.scope == "clauses" else [text], text)

        feedback: list[str] = []
        review: list[str] = []
        covered, missing = [], []
        # Pattern evidence first: a misconception stated in so many words blocks a concept that
        # only an embedding found ("the same rotated images" resembles "the unrotated image").
        by_pattern = {c.id: self._find(c, parts, view, None) for c in rb.concepts}
        named = {cid for cid, f in by_pattern.items() if f.present}
        wrong_by_pattern = {w.id: self._find(w, parts, view, None) for w in rb.misconceptions
                            if not named.intersection(w.unless)}
        stated_wrong = any(f.present for f in wrong_by_pattern.values())
        present: set[str] = set()
        concept_fraction = 0.0
        for concept in rb.concepts:
            found = by_pattern[concept.id]
            if not found.present and not stated_wrong:
                found = self._find(concept, parts, view, rb.match, found.negated)
            if found.present:
                present.add(concept.id)
                concept_fraction += concept.weight
                covered.append(concept.label)
                if found.by == "embedding" and found.score < rb.match + BORDERLINE:
                    review.append(f"borderline match for {concept.id}")
                continue
            if not stated_wrong and found.score >= rb.match - rb.near:
                review.append(f"possible paraphrase of {concept.id}")
            partial = concept.partial_signal
            half = self._find(partial, parts, view, None) if partial else Found()
            if half.present:
                concept_fraction += concept.weight * concept.partial.credit  # type: ignore[union-attr]
                missing.append(concept.missing)
            elif found.negated:
                feedback.append(f"Your answer denies a point the question needs ({concept.label}).")
                review.append(f"negated {concept.id}")
            else:
                missing.append(concept.missing)

        penalty = 0.0
        for wrong in rb.misconceptions:
            if present.intersection(wrong.unless):
                continue
            found = wrong_by_pattern.get(wrong.id) or Found()
            if not found.present:
                found = self._find(wrong, parts, view, rb.misconception_match, found.negated)
            if found.present:
                penalty += wrong.penalty
                feedback.append(wrong.feedback)
                if concept_fraction > 0:
                    review.append(f"misconception {wrong.id} beside credited concepts")
                if found.by == "embedding":
                    review.append(f"misconception {wrong.id} found by similarity only")
        fraction = max(0.0, concept_fraction - min(1.0, penalty))

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

        head = "Correct." if fraction >= 0.999 else ""
        if covered and fraction < 0.999:
            head = "Credited: " + "; ".join(covered) + "."
        lines = [head] if head else []
        lines += feedback
        if missing and fraction < 0.999:
            lines.append("Missing: " + " ".join(missing))
        return Assessment(fraction, concept_fraction, similarity, lines, review)

    def similarity_of(self, view: "_Embedded") -> float:
        """The whole answer's best cosine to the rubric's references."""
        return float(np.max(self.vectors()["@references"] @ view.whole_vec))

    def similarity(self, answer: Any) -> float:
        text = normalise("\n".join(map(str, answer)) if isinstance(answer, list) else str(answer))
        return self.similarity_of(_Embedded([text], text))

    def _holistic(self, similarity: float) -> float:
        low, high = self.rubric.similarity.low, self.rubric.similarity.high
        return float(min(1.0, max(0.0, (similarity - low) / (high - low))))

    def _find(self, signal: Signal, parts: list[str], view: "_Embedded",
              threshold: float | None, negated: bool | None = None) -> Found:
        """Patterns when `negated` is None (and only them when `threshold` is None); then example
        phrases by embedding, per unit (clause or whole answer), skipping negated units."""
        if negated is None:
            negated = False
            for clause in parts:
                for regex in signal.regexes:
                    for m in regex.finditer(clause):
                        if negated_at(clause, m.start(), m.end()):
                            negated = True
                        else:
                            return Found("pattern")
        if threshold is None or not signal.examples:
            return Found(negated=negated)
        sims = (view.unit_vecs @ self.vectors()[signal.id].T).max(axis=1)
        for unit, sim in sorted(zip(view.units, sims), key=lambda p: -p[1]):
            if sim < threshold:
                break
            if not has_negation(unit):
                return Found("embedding", score=float(sim))
            negated = True
        return Found(negated=negated, score=float(sims.max()))

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
            text = normalise(raw)
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
