"""ex3 text items as the rubric states them (graders/ex3/rubric.yaml → text/*.yaml): each case
names what the answer does and the points a careful TA gives it; the hostile samples beside
this folder (graders/ex3/samples/text-*.json) must land in their ranges too."""
import json
from pathlib import Path

import pytest

from graders.engines import make_checker
from graders.rubric import load_rubric

EX3 = Path(__file__).resolve().parents[1]
RUBRIC = load_rubric(EX3)
SAMPLES = sorted((EX3 / "samples").glob("text-*.json"))


def grade(item_id: str, answer):
    item = RUBRIC.item(item_id)
    assert item.check == {"engine": "text", "rubric": f"text/{item.field}.yaml"}
    mark = make_checker(item, EX3)(answer)
    return round(mark.fraction * item.points, 2), mark


POINTS = [
    ("input 1.5: randomly rotated image", "ex3a.input", "a randomly rotated version r(x_i) of the image", 1.5, 1.5),
    ("input 1.5: German", "ex3a.input", "das zufällig gedrehte Bild", 1.5, 1.5),
    ("input 0: the unrotated image", "ex3a.input", "the unrotated original image", 0, 0),
    ("target 1.5: original image", "ex3a.target", "the original image x_i, without rotation", 1.5, 1.5),
    ("target 1.5: original, named beside the rotated input", "ex3a.target",
     "reconstruct the original from the rotated input", 1.5, 1.5),
    ("target 0: the rotated image again", "ex3a.target", "the same rotated images", 0, 0),
    ("skip 5: detail to decoder, bottleneck keeps abstract content", "ex3b.skip_connections",
     "They pass fine spatial detail from the encoder straight to the decoder, so the bottleneck only "
     "has to carry abstract, semantic information.", 4.5, 5),
    ("skip 5: negated loss is a positive claim", "ex3b.skip_connections",
     "The decoder gets the high-resolution encoder features without losing edges; the deep layers then "
     "focus on what is in the image rather than where.", 4, 5),
    ("skip 3: detail only", "ex3b.skip_connections",
     "They copy low-level details from the encoder to the decoder.", 2.5, 3.5),
    ("skip 0-1: fewer parameters", "ex3b.skip_connections", "They reduce the number of parameters.", 0, 1),
    ("apps 5: three families", "ex3c.applications", ["compression", "anomaly detection", "denoising"], 5, 5),
    ("apps 5: three families in one entry", "ex3c.applications", ["compression, denoising and outlier detection"], 5, 5),
    ("apps 1.67: synonyms of one family count once", "ex3c.applications",
     ["dimensionality reduction", "compression", "PCA"], 1.6, 1.7),
    ("apps 3.33: a non-application is not counted", "ex3c.applications",
     ["segmentation", "image generation", "linear regression"], 3.3, 3.4),
    ("apps: only the first three entries are graded", "ex3c.applications",
     ["sorting", "regression", "dropout", "compression", "denoising", "anomaly detection"], 0, 0),
    # answers written by other people (the lead's probe): other words for the same ideas
    ("target 1.5: before the rotation", "ex3a.target", "the image before the rotation was applied", 1.5, 1.5),
    ("target 1.5: German, before the turn", "ex3a.target", "das Bild vor der Drehung", 1.5, 1.5),
    ("target 1.5: x, not r(x)", "ex3a.target", "x (not r(x))", 1.5, 1.5),
    ("target 0: the input again", "ex3a.target", "the same image it got as input", 0, 0),
    ("target 0: a rotated x is still rotated", "ex3a.target", "the rotated version of x_i", 0, 0),
    ("input 0.5: augmented, not said how", "ex3a.input", "augmented images", 0.3, 0.7),
    ("skip 4-5: what and where", "ex3b.skip_connections",
     "to combine the what (deep, abstract) with the where (shallow, detailed) so the output is sharp", 4, 5),
    ("skip 4-5: the deep path knows what, the skips tell where", "ex3b.skip_connections",
     "the deep path knows *what* is in the image, the skips tell the decoder *where* it is", 4, 5),
    ("skip 3: contracting to expanding path, positions", "ex3b.skip_connections",
     "They link each level of the contracting path with the matching level of the expanding path so the "
     "decoder gets back the exact positions.", 2.5, 3.5),
    ("skip 3-3.5: German, details not lost in the bottleneck", "ex3b.skip_connections",
     "Sie verbinden Encoder und Decoder direkt, damit feine Details nicht im Bottleneck verloren gehen.", 2.5, 4),
    ("skip 1.5: only the kind of information", "ex3b.skip_connections", "localisation", 1, 2),
    ("target 0: the image rotated by another angle", "ex3a.target", "the image rotated by a different angle than the input", 0, 0),
    ("target 1.5: rotated back", "ex3a.target", "the input image rotated back to upright", 1.5, 1.5),
    ("target 1.5: its normal orientation", "ex3a.target", "the digit in its normal orientation", 1.5, 1.5),
    ("apps 5: embeddings are feature learning", "ex3c.applications",
     ["learning embeddings", "generating data", "finding anomalies"], 5, 5),
    ("input 1.5: rotation as a symbol", "ex3a.input", "x_rot = R_theta x, theta random", 1.5, 1.5),
    ("input 0: the rotation put on the output", "ex3a.input", "the upright image; the network should output it rotated", 0, 0),
    ("input 0: the rotation only in the loss", "ex3a.input", "x_i itself, the rotation only happens in the loss", 0, 0),
    ("skip 4.5-5: high-frequency details through the skips", "ex3b.skip_connections",
     "the high-frequency details go through the skips and the bottleneck can focus on abstract concepts", 4.5, 5),
    ("skip 0: abstract information from the decoder to the encoder", "ex3b.skip_connections",
     "They pass the abstract information from the decoder back to the encoder.", 0, 0.5),
    ("apps 1.67: fraud, outlier, novelty are one family", "ex3c.applications",
     ["fraud detection", "outlier detection", "novelty detection"], 1.6, 1.7),
    ("target 1.5: the image as the label", "ex3a.target", "use x_i as the label", 1.5, 1.5),
    ("target 0: class labels", "ex3a.target", "the class labels of the digits", 0, 0),
    ("skip 2-3: low- and high-level features combined, no deep path", "ex3b.skip_connections",
     "skip connections merge low-level with high-level features", 2, 3),
    ("skip 4.5-5: the bottleneck need not keep the details", "ex3b.skip_connections",
     "the bottleneck no longer has to keep the spatial details, so it can hold only semantic content", 4.5, 5),
    ("apps 3.33: clustering counts", "ex3c.applications", ["clustering", "compressing images", "word processing"], 3.3, 3.4),
]


@pytest.mark.parametrize("name,item,answer,lo,hi", POINTS, ids=[p[0] for p in POINTS])
def test_points(name, item, answer, lo, hi):
    points, mark = grade(item, answer)
    assert lo <= points <= hi, (points, mark.feedback)


def test_negated_skip_connections_earn_nothing_and_go_to_review():
    points, mark = grade("ex3b.skip_connections",
                         "Skip connections do not pass spatial detail to the decoder.")
    assert points == 0 and mark.needs_review


def test_a_wrong_side_claim_in_a_long_right_answer_costs_a_share_and_goes_to_review():
    points, mark = grade("ex3b.skip_connections",
                         "The skip connections copy the feature maps from each encoder stage to the decoder stage "
                         "with the same size, so edges are not lost and the deep part can stay abstract. "
                         "They also reduce the number of parameters a lot.")
    assert 3.5 <= points <= 4 and mark.needs_review and "smaller" in mark.feedback


@pytest.mark.parametrize("item,answer", [
    ("ex3a.input", "the image together with its rotation angle"),
    ("ex3a.input", "augmented images: random rotations, crops and colour jitter"),
    ("ex3a.target", "a rotated version of x with another angle"),
    ("ex3a.input", "the original image x and its rotated version"),
    ("ex3a.target", "the same image"),
])
def test_an_answer_beyond_what_the_rubric_judges_goes_to_review(item, answer):
    assert grade(item, answer)[1].needs_review


def test_synonym_feedback_says_it_counts_once():
    _, mark = grade("ex3c.applications", ["denoising", "removing noise", "compression"])
    assert "counts once" in mark.feedback


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_hostile_sample_lands_in_range(path: Path):
    sample = json.loads(path.read_text(encoding="utf-8"))
    answers = sample["submission"]["answers"]
    for item_id, (lo, hi) in sample["expect"].items():
        points, mark = grade(item_id, answers[RUBRIC.item(item_id).field])
        assert lo <= points <= hi, (item_id, points, mark.feedback)
        if "review" in sample:  # the items a TA must see, exactly
            assert mark.needs_review == (item_id in sample["review"]), (item_id, mark.feedback)
