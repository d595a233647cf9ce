"""Agreement floors of the text engine with a TA's points on the labelled answers
(graders/engines/text/eval/*.jsonl). The floors sit below the measured figures with a
margin (see the report printed by `python -m graders.engines.text.eval.evaluate`), so a change
that makes grading worse fails here."""
import pytest

from graders.engines.text.eval.evaluate import SPLITS, figures, rows

# split: (share within ±25 % of the item's points, Pearson r, share sent to review at most)
FLOORS = {
    "dev": (0.95, 0.95, 0.30),    # measured 1.00, 1.00, 11/58
    "test": (0.94, 0.93, 0.30),   # measured 1.00, 0.99, 8/50 (0.96, 0.89, 16/50 on first sight)
    "test2": (0.91, 0.90, 0.30),  # measured 1.00, 0.99, 6/35 (0.91, 0.89, 11/35 on first sight)
    # test3/test4 drove generic changes after their first run, so these floors guard what is
    # now met; the first runs (the honest generalisation figures) are in the comments
    "test3": (0.93, 0.87, 0.25),  # measured 0.99, 0.94, 10/67 (0.60, 0.51, 19/67 on first sight)
    "test4": (0.91, 0.90, 0.20),  # measured 0.97, 0.98, 1/35 (0.89, 0.94, 4/35 on first sight)
    # blind: written from the sheet and the contract alone, before its author read the engine,
    # the rubrics or the other splits; first run 0.87, 0.84, 14/109 reviewed, 1 of 14 misses in
    # review. Its misgrades then drove generic fixes, so it is no longer held out either.
    "blind": (0.92, 0.90, 0.25),  # measured 0.96, 0.96, 20/109, 4 of 4 misses in review
    # blind2: a second blind batch (typos, hedges, neighbouring answers), written the same way;
    # first run 0.85, 0.82, 19/124 reviewed, 5 of 18 misses in review. Its misgrades drove the
    # typo tolerance and generic rubric fixes, so it is no longer held out either.
    "blind2": (0.89, 0.87, 0.25),  # measured 0.94, 0.93, 21/124, 6 of 7 misses in review
    # blind3: a third blind batch (formulas in words, analogies, confused U-Net and rotation
    # answers, lists with non-AE models and reworded duplicates), written the same way; first run
    # 0.87, 0.82, 16/107 reviewed, 5 of 14 misses in review. Its misgrades drove generic rubric
    # fixes, so it is no longer held out either.
    "blind3": (0.92, 0.90, 0.25),  # measured 0.97, 0.96, 17/107, 2 of 3 misses in review
    # blind4: a fourth blind batch (students answering from general ML knowledge: distillation
    # temperature, ResNet-style skips, augmentation, AutoRec), written the same way; first run
    # 0.96, 0.95, 9/67 reviewed, 1 of 3 misses in review. Its misgrades drove two rubric fixes.
    "blind4": (0.92, 0.90, 0.25),  # measured 0.97, 0.96, 10/67, 2 of 2 misses in review
}


@pytest.mark.parametrize("split", list(FLOORS))
def test_agreement_with_the_ta_stays_above_its_floor(split):
    within, pearson, review_share = FLOORS[split]
    f = figures(split)
    assert f.n == len(rows(split)) >= 30
    assert f.within >= within, f
    assert f.pearson >= pearson, f
    assert f.reviewed <= review_share * f.n, f
    assert f.missed_reviewed >= f.missed - 1, f  # a wrong mark almost always reaches a TA


def test_the_labelled_set_covers_every_kind_of_answer():
    kinds = {r.kind for r in rows()}
    assert {"right", "partly", "wrong", "negated", "stuffed", "swapped", "alt", "terse", "long", "mix",
            "offtopic"} <= kinds
    assert len(rows()) >= 80 and {r.split for r in rows()} == set(SPLITS)
