"""Plain-text handling for short answers: normalisation, clause splitting, negation scope and
the keyword-list guard. Pure functions, no model."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SYMBOLS = {
    "τ": "tau", "‖": "||", "→": "->", "⇒": "=>", "∞": "infinity", "≈": "~", "–": "-", "—": "-",
    "’": "'", "‘": "'", "“": '"', "”": '"', "·": " ", "×": "x",
    "*": " ", "`": " ",  # markdown emphasis (*what*, `code`); a product sign reads as a space
}
_LATEX_COMMAND = re.compile(r"\\([a-zA-Z]+)")
# Formatting that carries no meaning: \mathbf{x}_i is x_i.
_LATEX_FORMAT = re.compile(r"\\(?:mathbf|boldsymbol|bm|mathrm|mathit|textbf|text|operatorname|left|right)\b|[{}]")
_SPACES = re.compile(r"\s+")

# Clause boundaries: sentence punctuation and connectives that start a new claim. Splitting at
# "but"/"sondern" also closes a negation's scope ("not the norm but the angle"). A dash between
# words ("... low-level details - those go over the skips") starts a new claim; a minus between
# symbols ("x_i - f(r(x_i))") does not.
_CLAUSE_BREAK = re.compile(
    r"[.!?;:\n]+(?=\s|$)|(?<=[a-z]{2})\s+-\s+(?=[a-z]{2})|\s*,?\s*\b(?:but|whereas|while|since|because|so that|so|therefore|thus|hence|"
    r"which means|whereby|aber|sondern|weil|damit|daher|deshalb|dadurch|sodass|so dass|wodurch)\b"
)

NEGATION = re.compile(
    r"\b(?:not|no|never|neither|nor|without|cannot|none|nothing|nicht|kein|keine|keinen|keiner|"
    r"keines|nie|niemals|ohne)\b|n't\b"
)
# "without losing the details", "nicht verloren": a negated loss is a positive claim.
_LOSS = re.compile(r"\b(?:los[et]|losing|lost|verlier\w*|verloren|discard\w*|drop\w*)\b")
NEGATION_WINDOW_WORDS = 6

_WORD = re.compile(r"[a-zäöüß0-9_']+")
# Words (and arrows) that give a text sentence structure. A keyword dump has almost none.
FUNCTION_WORDS = frozenset(
    """a an the of to from in on at by for with into onto through than then that this these those
    is are was were be been being has have had do does did can could will would should must may
    might it its they them their there which who what when where how why so because since as if
    and or but not no only just also very more most less all each every both same such while
    i we you he she one only thus hence therefore i.e e.g
    der die das den dem des ein eine einer einen einem und oder aber nicht nur ist sind wird
    werden wurde hat haben zu zum zur vom von im in am an auf aus mit für bei als wie so dass
    also damit weil es sie er man je desto""".split()
)
_RELATION_MARK = re.compile(r"->|=>|=|<|>|\bvs\b")


def normalise(text: str) -> str:
    """Lowercase, symbols and LaTeX commands spelled as words, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    text = _LATEX_FORMAT.sub("", text.replace("\\|", "||"))
    text = _LATEX_COMMAND.sub(r" \1 ", text)
    return _SPACES.sub(" ", text.lower()).strip()


def clauses(text: str) -> list[str]:
    """The claims of a normalised answer, in order; never empty for a non-blank answer."""
    parts = [p.strip(" ,-") for p in _CLAUSE_BREAK.split(text)]
    parts = [p for p in parts if _WORD.search(p)]
    return parts or [text]


# "the angle ... does not matter": a denial right after what was matched.
_DENIAL_AFTER = re.compile(
    r"^\W*(?:[\w|()^{}\\-]+\W+){0,4}?(?:does not|doesn't|do not|don't|did not|is not|isn't|are not|"
    r"aren't|has no|have no|plays? no|(?:is|are) irrelevant|spielt keine|ist egal|ist irrelevant|"
    r"ist nicht|sind nicht|hat keinen?|(?:is|are|gets?|get|become|becomes) (?:lost|discarded|thrown away)|"
    r"(?:geht|gehen|wird|werden) verloren)\b"
)
_NOT_ONLY = re.compile(r"^\s*(?:only|just|nur)\b")


def negated_at(clause: str, start: int, end: int | None = None) -> bool:
    """Whether this clause negates the match at clause[start:end]: a negation shortly before it
    (not across a comma, not "not only", not a negated loss), or a denial right after it."""
    before = clause[:start]
    cues = [c for c in NEGATION.finditer(before) if not _NOT_ONLY.match(before[c.end():])]
    if cues:
        gap = before[cues[-1].end():]
        if len(_WORD.findall(gap)) <= NEGATION_WINDOW_WORDS and "," not in gap and not _LOSS.search(gap):
            return True
    if end is not None:
        after = clause[end:]
        denial = _DENIAL_AFTER.match(after)
        if denial and not _LOSS.search(after[denial.end():denial.end() + 25]):
            return True
    return False


def has_negation(clause: str) -> bool:
    """Whether a clause carries a negation that is not a negated loss."""
    for cue in NEGATION.finditer(clause):
        after = clause[cue.end():]
        words = _WORD.findall(after)[:3]
        if not _NOT_ONLY.match(after) and not any(_LOSS.fullmatch(w) for w in words):
            return True
    return False


@dataclass(frozen=True)
class Structure:
    words: int
    function_words: int

    @property
    def is_keyword_list(self) -> bool:
        """Several content words with (almost) nothing that relates them."""
        return self.words >= 5 and self.function_words / self.words < 0.1


def structure(text: str) -> Structure:
    words = _WORD.findall(text)
    glue = sum(w in FUNCTION_WORDS for w in words) + len(_RELATION_MARK.findall(text))
    return Structure(words=len(words), function_words=glue)
