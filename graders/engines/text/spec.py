"""A short-answer rubric as data: one YAML file per question (e.g. graders/ex1/text/geometry.yaml).

Patterns are regular expressions written by the course team and run on the normalised answer
(lowercase, symbols as words); student text is only ever the subject of a match."""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


# `{gap}` in a pattern: a short stretch of the same clause that holds no negation and no comma,
# so that "norm{gap}decides" does not match "norm is the same, it does not decide" and
# "small tau{gap}flat" does not match "small tau sharpens it, large tau flattens it". It ends
# where a word starts, so "tau{gap}sure" does not match "tau measures".
GAP = r"(?:(?!\b(?:not|no|never|nicht|kein\w*|without|ohne)\b|n't)[^.;,]){0,60}?(?<!\w)"


# A word filler `(\w+\s+){0,N}` (or `(\w+\W+){0,N}`) never swallows a negation either: "the
# probabilities are not equal" must not match `probabilit\w*\s+(\w+\s+){0,3}equal`. A negation
# written into a pattern literally ("not lost", "does not have to store") is unaffected.
_FILLER = re.compile(r"\(\\w\+\\([sW])\+\)\{0,(\d+)\}")
_NEGATION_WORD = r"(?:not|no|never|nor|nicht|kein\w*|without|ohne|cannot)\b"


def compile_pattern(pattern: str) -> re.Pattern[str]:
    pattern = _FILLER.sub(lambda m: rf"(?:(?!{_NEGATION_WORD})\w+\{m.group(1)}+){{0,{m.group(2)}}}", pattern)
    return re.compile(pattern.replace("{gap}", GAP))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Signal(_Strict):
    """Something an answer may say: found by a pattern, or by an example phrase whose embedding
    is close enough to one of the answer's clauses."""

    id: str
    label: str
    patterns: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                compile_pattern(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r}: {exc}") from None
        return value

    @cached_property
    def regexes(self) -> tuple[re.Pattern[str], ...]:
        return tuple(compile_pattern(p) for p in self.patterns)


class Partial(_Strict):
    """A weaker form of a concept (e.g. "dot product" for "angle"), worth `credit` of its weight.
    Patterns only: similarity is too coarse to tell a weaker form from a wrong one."""

    credit: float = Field(gt=0, lt=1)
    patterns: list[str] = Field(min_length=1)
    # A different, weaker idea ("similarity" for "angle") stays partial even when the embedding
    # finds the full concept; a fragment of it ("details", said without where they go) may be
    # lifted to full credit by an embedding match of the whole clause.
    fragment: bool = False


class Concept(Signal):
    weight: float = Field(gt=0, le=1)
    missing: str  # feedback when absent: what to address, never the answer itself
    # weaker forms, each worth its own share ("dot product": half; "gradients flow": a third)
    partial: Partial | list[Partial] | None = None

    @property
    def partial_forms(self) -> list[Partial]:
        return [] if self.partial is None else [self.partial] if isinstance(self.partial, Partial) else self.partial

    @cached_property
    def partial_signals(self) -> list[tuple[Partial, Signal]]:
        """(form, signal) per weaker form, in the rubric's order."""
        return [(form, Signal(id=f"{self.id}~partial{i}", label=self.label, patterns=form.patterns))
                for i, form in enumerate(self.partial_forms)]


class Misconception(Signal):
    penalty: float = Field(ge=0, le=1)
    feedback: str
    # concept ids that make this reading moot ("the rotated version of the original image"
    # names the original, but as input it is the rotated one that is meant)
    unless: list[str] = Field(default_factory=list)
    # concept ids without which this is not a wrong claim but a weaker form of one of them
    # ("the Euclidean distance to w_c": alone, a partial answer; beside the angle, a second,
    # wrong mechanism)
    only_with: list[str] = Field(default_factory=list)

    def applies(self, concepts: set[str]) -> bool:
        return not concepts.intersection(self.unless) and (not self.only_with or bool(concepts.intersection(self.only_with)))


class Family(Signal):
    """One application family of a list question; synonyms inside it count once."""


class Similarity(_Strict):
    """Maps the whole answer's best cosine to the references onto 0..1 (the holistic signal)."""

    low: float = 0.3
    high: float = 0.75


class TextRubric(_Strict):
    question: str
    kind: Literal["explanation", "short", "list"]
    references: list[str] = Field(min_length=1)  # model-answer paraphrases; never shown
    similarity: Similarity = Similarity()
    # clause-to-example cosine that counts as saying it; within `near` below it, a TA looks
    match: float = Field(0.70, gt=0, lt=1)
    near: float = Field(0.08, ge=0, lt=1)
    misconception_match: float = Field(0.72, gt=0, lt=1)
    keyword_list_cap: float = Field(0.2, ge=0, le=1)
    # a misconception stated in a clause of its own, beside concepts credited from other clauses
    # ("right mechanism, plus one wrong claim"), takes this share of the item (or its own
    # penalty if smaller) and goes to review; one that shares the concept's clause cancels it
    side_claim_penalty: float = Field(0.25, ge=0, le=1)
    disagreement: float = Field(0.5, gt=0, le=1)  # |concept − similarity| that asks for review
    concepts: list[Concept] = Field(default_factory=list)
    misconceptions: list[Misconception] = Field(default_factory=list)
    # statements that change no points but that a TA should look at (an answer going beyond
    # what the rubric can judge: "with its rotation angle", "crops and colour jitter"); by
    # pattern only, on the whole answer
    doubts: list[Signal] = Field(default_factory=list)
    families: list[Family] = Field(default_factory=list)
    not_applications: list[Misconception] = Field(default_factory=list)
    count: int = Field(3, ge=1)  # list questions: how many entries are graded

    @field_validator("concepts")
    @classmethod
    def _weights(cls, value: list[Concept]) -> list[Concept]:
        if value and abs(sum(c.weight for c in value) - 1) > 1e-6:
            raise ValueError("concept weights must add up to 1")
        return value

    @model_validator(mode="after")
    def _has_signals(self) -> "TextRubric":
        if self.kind == "list" and not self.families:
            raise ValueError("a list question needs application families")
        if self.kind != "list" and not self.concepts:
            raise ValueError("a text question needs concepts")
        return self

    @property
    def example_texts(self) -> list[str]:
        """Every phrase to embed once: references, then each signal's examples in order."""
        texts = list(self.references)
        for signal in self.signals:
            texts.extend(signal.examples)
        return texts

    @property
    def vocabulary(self) -> set[str]:
        """The words the rubric is written in (for typo tolerance)."""
        from graders.engines.text.spelling import rubric_vocabulary

        signals = [*self.signals, *self.doubts]
        phrases = [self.question, *self.example_texts, *(s.label for s in signals)]
        return rubric_vocabulary(phrases, [p for s in signals for p in s.patterns])

    @property
    def signals(self) -> list[Signal]:
        partials = [signal for c in self.concepts for _, signal in c.partial_signals]
        return [*self.concepts, *partials, *self.misconceptions, *self.families, *self.not_applications]


def load_text_rubric(path: Path) -> TextRubric:
    return TextRubric.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
