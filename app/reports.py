"""Score statistics and histograms for the TA dashboard: plain numbers in, numbers and an
inline SVG out (rendered on the server, so the page needs no JavaScript to show them)."""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from statistics import fmean, median
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Summary:
    count: int
    mean: float | None
    median: float | None
    max: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> "Summary":
        if not values:
            return cls(0, None, None, None)
        return cls(len(values), round(fmean(values), 3), round(median(values), 3), max(values))


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


def histogram(values: Sequence[float], max_score: float, bins: int = 10) -> list[Bin]:
    """Equal-width bins over 0..max_score; the last bin holds full marks."""
    counts, edges = np.histogram(np.clip(values, 0, max_score), bins=bins, range=(0, max_score))
    return [Bin(float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(bins)]


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def histogram_svg(values: Sequence[float], max_score: float, label: str, bins: int = 10) -> str:
    """An inline SVG bar chart of `values` (points) over 0..max_score."""
    width, height, pad_left, pad_bottom, pad_top = 320, 150, 28, 30, 10
    plot_w, plot_h = width - pad_left - 6, height - pad_bottom - pad_top
    hist = histogram(values, max_score, bins) if max_score > 0 else []
    top = max([b.count for b in hist] + [1])
    bar_w = plot_w / max(len(hist), 1)
    title = f"{label}: points of {len(values)} submissions, 0 to {_fmt(max_score)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{pad_left}" y1="{pad_top + plot_h}" x2="{width - 6}" y2="{pad_top + plot_h}" stroke="#444"/>',
        f'<text x="{pad_left - 4}" y="{pad_top + 8}" font-size="10" text-anchor="end">{top}</text>',
        f'<text x="{pad_left - 4}" y="{pad_top + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    for i, b in enumerate(hist):
        h = plot_h * b.count / top
        x = pad_left + i * bar_w
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{pad_top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
            f'height="{h:.1f}" fill="#3b6ea5" data-count="{b.count}">'
            f"<title>{_fmt(b.low)}–{_fmt(b.high)} P: {b.count}</title></rect>"
        )
    for x_val in (0, max_score / 2, max_score):
        x = pad_left + plot_w * (x_val / max_score if max_score else 0)
        parts.append(
            f'<text x="{x:.1f}" y="{height - pad_bottom + 14}" font-size="10" text-anchor="middle">{_fmt(x_val)}</text>'
        )
    parts.append(
        f'<text x="{pad_left + plot_w / 2:.1f}" y="{height - 4}" font-size="10" text-anchor="middle">points</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
