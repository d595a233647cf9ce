"""Typo tolerance: an answer word that is no known word but one typo away from a word of the
rubric is read as that word ("angel" → "angle", "unifrom" → "uniform", "orginal imgae" →
"original image"), before patterns and embeddings see the answer. A TA reads through typos; the
rubric's regexes and the embedding's word pieces do not.

Known words are the rubric's own vocabulary and the embedding model's whole-word tokens (a
~30k-word English lexicon, read from its vocab.txt, no model load). A known word is left alone,
except for a swap of two neighbouring letters that turns it into a rubric word ("angel" in an
answer about w_c and z is "angle"). The first letter must agree (a typo rarely hits it, and a
prefix is meaning: "unrotated" is not "rotated", "encoder" is not "decoder")."""
from __future__ import annotations

import re
from functools import lru_cache

from graders.engines.text.embedding import model_dir

MIN_LENGTH = 5  # shorter words are too close to each other ("form"/"from"/"norm")
LONG_WORD = 9  # from this length, two edits count as a typo ("probabilty", "temprature")
_WORD = re.compile(r"[a-zäöüß]+")
_SUFFIXES = ("ies", "es", "s", "ed", "ing", "ly")


@lru_cache(maxsize=1)
def lexicon() -> frozenset[str]:
    """The embedding model's whole-word tokens: an English lexicon that ships with the model."""
    words = (model_dir() / "vocab.txt").read_text(encoding="utf-8").split()
    return frozenset(w for w in words if w.isalpha())


def typo_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours), or
    limit + 1 as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before, row = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)  # type: ignore[index]
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


def _inflection(a: str, b: str) -> bool:
    """Whether two words differ only in their last letter ("encoders"/"encodes", "decoder"/
    "decodes"): an ending, not a typo."""
    return a[:-1] == b[:-1] or a[:-1] == b or b[:-1] == a


def _is_swap(a: str, b: str) -> bool:
    diff = [i for i in range(len(a)) if a[i] != b[i]] if len(a) == len(b) else []
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


class Speller:
    """Corrects the typos of an answer against one rubric's vocabulary."""

    def __init__(self, vocabulary: set[str]) -> None:
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= MIN_LENGTH - 1)
        self._by_initial: dict[str, list[str]] = {}
        for word in sorted(self.vocabulary):
            self._by_initial.setdefault(word[0], []).append(word)
        self.word = lru_cache(maxsize=4096)(self._word)

    def _known(self, word: str) -> bool:
        stems = [word] + [word[: -len(s)] for s in _SUFFIXES if word.endswith(s) and len(word) > len(s) + 3]
        if word.endswith("ies"):
            stems.append(word[:-3] + "y")
        return any(s in self.vocabulary or s in lexicon() for s in stems)

    def _word(self, word: str) -> str:
        if len(word) < MIN_LENGTH or word in self.vocabulary:
            return word
        candidates = self._by_initial.get(word[0], [])
        if self._known(word):  # a real word: only a swap of neighbouring letters is a typo
            return next((v for v in candidates if _is_swap(word, v)), word)
        if word.endswith("s") and len(word) > MIN_LENGTH:  # the plural of a correction, or none
            stem = self.word(word[:-1])
            return word if stem == word[:-1] else stem + "s"
        limit = 2 if len(word) >= LONG_WORD else 1
        best, best_distance = word, limit + 1
        for candidate in candidates:
            if _inflection(word, candidate):
                continue
            distance = typo_distance(word, candidate, limit)
            if distance < best_distance:
                best, best_distance = candidate, distance
        return best

    def correct(self, text: str) -> str:
        """The normalised answer with its typos replaced by the rubric words they stand for."""
        return _WORD.sub(lambda m: self.word(m.group()), text)


_ESCAPE = re.compile(r"\\[a-zA-Z]")  # \b, \w, \s in a pattern are no letters of a word


def rubric_vocabulary(phrases: list[str], patterns: list[str]) -> set[str]:
    """The words a rubric is written in: its phrases' words and the letter runs of its patterns
    (stems such as "rotat" included: a typo is corrected to what the pattern matches)."""
    words = {w for p in phrases for w in _WORD.findall(p.lower())}
    words |= {w for p in patterns for w in _WORD.findall(_ESCAPE.sub(" ", p.lower()))}
    return {w for w in words if len(w) >= MIN_LENGTH - 1}
