"""Grader feedback as HTML for the pages: each `$…$` segment (the math engine's echo of how it
read an expression) becomes inline MathML via latex2mathml; everything else is escaped text,
line breaks kept as "\n" (the `.feedback` class is `white-space: pre-wrap`).

Feedback can carry fragments of student text, and latex2mathml copies `\\text{…}` into its output
unescaped, so its MathML is parsed and rebuilt from a whitelist of MathML elements and
attributes; anything else (or a conversion error) shows the segment's escaped `$…$` source."""
from __future__ import annotations

import re
from functools import lru_cache
from xml.etree import ElementTree

from latex2mathml.converter import convert
from markupsafe import Markup, escape

_MATH_SEGMENT = re.compile(r"\$([^$]+)\$")
# latex2mathml has no \arg (the engine writes \arg\max_{u}); it would show the backslash
_ARG = re.compile(r"\\arg(?![A-Za-z])")

_ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac",
    "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded",
    "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts", "none", "mfenced",
})
_ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "fence", "form", "separator", "accent", "accentunder",
    "largeop", "movablelimits", "symmetric", "lspace", "rspace", "minsize", "maxsize", "width",
    "height", "depth", "voffset", "columnalign", "columnspacing", "columnlines", "rowalign",
    "rowspacing", "rowlines", "frame", "linethickness", "scriptlevel", "displaystyle", "notation",
    "open", "close", "separators", "mathsize",
})


class _Refused(ValueError):
    """The converter produced something that is not plain MathML."""


def _rebuilt(node: ElementTree.Element) -> ElementTree.Element:
    name = node.tag.rpartition("}")[2]
    if name not in _ELEMENTS:
        raise _Refused(name)
    clean = ElementTree.Element(name, {k: v for k, v in node.attrib.items() if k in _ATTRIBUTES})
    clean.text = node.text
    for child in node:
        copy = _rebuilt(child)
        copy.tail = child.tail
        clean.append(copy)
    return clean


@lru_cache(maxsize=4096)
def mathml(tex: str) -> str | None:
    """Inline MathML for one LaTeX expression, or None when it cannot be shown safely."""
    try:
        root = ElementTree.fromstring(convert(_ARG.sub(r"\\operatorname{arg}", tex), display="inline"))
        if root.tag.rpartition("}")[2] != "math":
            return None
        return ElementTree.tostring(_rebuilt(root), encoding="unicode")
    except Exception:  # noqa: BLE001 - any converter or parser failure shows the source instead
        return None


def feedback_html(feedback: str | None) -> Markup:
    """The Jinja2 filter: escaped text with its `$…$` segments as MathML."""
    text = feedback or ""
    parts: list[str] = []
    last = 0
    for match in _MATH_SEGMENT.finditer(text):
        parts.append(escape(text[last:match.start()]))
        converted = mathml(match.group(1).strip())
        parts.append(converted if converted is not None else escape(match.group(0)))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("".join(parts))
