"""Agreement of the text engine with a TA's points on the labelled answers.

usage: python -m graders.engines.text.eval.evaluate [--show SPLIT] [--scope clauses|whole]

For each split (see SPLITS) and each scoring variant it prints: the share of answers within ±25 % of the item's points,
Pearson's r between grader and TA (on the fraction of the item's points), how many marks were
sent to TA review, and how many of the marks outside ±25 % the review queue would show. Variants: `clauses` (concepts matched per clause: the engine's default),
`whole` (example phrases matched against the whole answer) and `similarity` (the whole answer's
embedding similarity to the references alone: the baseline the concept rubric replaces)."""
from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

EVAL_DIR = Path(__file__).parent  # every *.jsonl here is a labelled batch
GRADERS = Path(__file__).resolve().parents[3]
VARIANTS = ("clauses", "whole", "similarity")
# dev: the rubrics were tuned on it. test: written before the grader existed, first measured on
# the frozen rubrics (two generic flaws it exposed were fixed afterwards, so it is no longer
# held out). test2: written after those fixes, before the grader saw it. test3: written by a
# later engineer in a different voice (other vocabulary, rambling answers with one wrong claim,
# math notation, mixed German-English), before that engineer changed anything. test4: written
# by the same engineer after the test3-driven changes were committed, before the grader saw it.
# blind (blind.jsonl): written by another engineer from the sheet and the contract alone, before
# reading the engine, the rubrics or the other labelled answers. blind2 (blind2.jsonl): a second
# batch written the same way by a later engineer, after the blind-driven changes were committed.
# blind3 (blind3.jsonl): a third such batch (formulas in words, analogies, confused U-Net and
# rotation answers, application lists with non-AE models and reworded duplicates).
# blind4 (blind4.jsonl): a fourth such batch in the voice of students who skipped the lecture and
# answer from general ML knowledge (distillation temperature, ResNet-style skips, augmentation).
SPLITS = ("dev", "test", "test2", "test3", "test4", "blind", "blind2", "blind3", "blind4")


@dataclass(frozen=True)
class Row:
    split: str
    item: str
    kind: str
    points: float
    answer: object


@dataclass(frozen=True)
class Figures:
    n: int
    within: float  # share within ±25 % of the item's points
    pearson: float
    reviewed: int
    missed: int  # marks outside ±25 %
    missed_reviewed: int  # of those, how many the TA review queue would show


def rows(split: str | None = None) -> list[Row]:
    out = [Row(**json.loads(line)) for path in sorted(EVAL_DIR.glob("*.jsonl"))
           for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in out if split is None or r.split == split]


@lru_cache(maxsize=None)
def _item(item_id: str):
    from graders.rubric import load_rubric

    exercise = item_id.split(".")[0][:3]
    folder = GRADERS / exercise
    return load_rubric(folder).item(item_id), folder


@lru_cache(maxsize=None)
def grader(item_id: str, scope: str):
    from graders.engines.text.scoring import TextGrader
    from graders.engines.text.spec import load_text_rubric

    item, folder = _item(item_id)
    return TextGrader(load_text_rubric(folder / item.check["rubric"]), scope=scope)  # type: ignore[arg-type]


def score(row: Row, variant: str) -> tuple[float, bool, str]:
    """(points, needs_review, feedback) for one labelled answer under one variant."""
    item, _ = _item(row.item)
    g = grader(row.item, "clauses" if variant == "similarity" else variant)
    assessment = g.assess(row.answer)
    if variant == "similarity":
        fraction = assessment.fraction if g.rubric.kind == "list" else g._holistic(g.similarity(row.answer))
        return fraction * item.points, False, ""
    mark = assessment.mark()
    return mark.fraction * item.points, mark.needs_review, mark.feedback


def figures(split: str, variant: str = "clauses") -> Figures:
    got, want, reviewed, missed, missed_reviewed = [], [], 0, 0, 0
    for row in rows(split):
        item, _ = _item(row.item)
        points, review, _ = score(row, variant)
        got.append(points / item.points)
        want.append(row.points / item.points)
        off = abs(points - row.points) > 0.25 * item.points + 1e-9
        reviewed += review
        missed += off
        missed_reviewed += off and review
    return Figures(n=len(got), within=1 - missed / len(got), pearson=float(np.corrcoef(got, want)[0, 1]),
                   reviewed=reviewed, missed=missed, missed_reviewed=missed_reviewed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", choices=SPLITS, help="print every answer of this split with its marks")
    ap.add_argument("--scope", choices=VARIANTS, default="clauses")
    args = ap.parse_args()
    if args.show:
        for row in rows(args.show):
            points, review, feedback = score(row, args.scope)
            flag = "R" if review else " "
            off = "!" if abs(points - row.points) > 0.25 * _item(row.item)[0].points + 1e-9 else " "
            print(f"{off}{flag} {row.item:24} {row.kind:9} TA {row.points:4.2f} got {points:4.2f} | "
                  f"{str(row.answer)[:70]} | {feedback[:150]}")
        return
    print(f"{'split':5} {'variant':10} {'n':>3} {'within±25%':>10} {'pearson':>8} {'review':>7} {'misses in review':>17}")
    for split in SPLITS:
        for variant in VARIANTS:
            f = figures(split, variant)
            print(f"{split:5} {variant:10} {f.n:3d} {f.within:10.2f} {f.pearson:8.2f} {f.reviewed:7d} "
                  f"{f.missed_reviewed:>10d} of {f.missed}")


if __name__ == "__main__":
    main()
