"""The text engine's plumbing: rubric validation, checker construction, the shared model and
the on-disk cache of rubric example embeddings."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from graders.engines.text import embedding
from graders.engines.text.checker import make_checker
from graders.engines.text.spec import TextRubric
from graders.rubric import ItemSpec

CONCEPT = {"id": "a", "label": "a", "weight": 1.0, "missing": "say a", "patterns": ["\\ba\\b"]}


def test_concept_weights_must_add_up_to_one():
    with pytest.raises(ValidationError, match="add up to 1"):
        TextRubric(question="q", kind="short", references=["r"], concepts=[{**CONCEPT, "weight": 0.5}])


def test_a_broken_pattern_is_rejected_when_the_rubric_loads():
    with pytest.raises(ValidationError):
        TextRubric(question="q", kind="short", references=["r"], concepts=[{**CONCEPT, "patterns": ["(unclosed"]}])


def test_a_list_question_needs_families():
    with pytest.raises(ValidationError, match="families"):
        TextRubric(question="q", kind="list", references=["r"])


def _item(check: dict) -> ItemSpec:
    return ItemSpec(field="f", type="text", points=1, check={"engine": "text", **check}, part="p")


def test_checker_needs_a_rubric_file_inside_the_exercise_folder(tmp_path: Path):
    with pytest.raises(ValueError, match="needs `rubric"):
        make_checker(_item({}), tmp_path)
    (tmp_path.parent / "outside.yaml").write_text("question: q\n")
    with pytest.raises(ValueError, match="outside"):
        make_checker(_item({"rubric": "../outside.yaml"}), tmp_path)


def test_building_a_checker_does_not_load_the_model(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(embedding, "_model", None)
    monkeypatch.setattr(embedding, "_load_uncached", lambda: pytest.fail("model loaded at build time"))
    (tmp_path / "q.yaml").write_text(
        "question: q\nkind: short\nreferences: [r]\nconcepts:\n"
        "  - {id: a, label: a, weight: 1, missing: say a, patterns: ['\\ba\\b']}\n")
    checker = make_checker(_item({"rubric": "q.yaml"}), tmp_path)
    assert checker.rubric.concepts[0].id == "a"


def test_the_model_is_loaded_once_for_all_threads(monkeypatch):
    calls = []

    def slow_load():
        calls.append(1)
        time.sleep(0.05)
        return object()

    monkeypatch.setattr(embedding, "_model", None)
    monkeypatch.setattr(embedding, "_load_uncached", slow_load)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(embedding.load_model())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(m) for m in seen}) == 1


class ReEmbedded(Exception):
    pass


def _refuse(texts, model=None):
    raise ReEmbedded(texts)


def test_rubric_embeddings_come_from_disk_in_a_fresh_process(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("AUTOGRADER_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(embedding, "_examples", {})
    monkeypatch.setattr(embedding, "model_key", lambda: "test-model")
    fake = np.eye(3, dtype=np.float32)
    monkeypatch.setattr(embedding, "encode_uncached", lambda texts, model=None: fake[: len(texts)])
    first = embedding.encode_examples(["a", "b"])
    assert list(tmp_path.rglob("*.npy"))
    monkeypatch.setattr(embedding, "_examples", {})  # as if a new process started
    monkeypatch.setattr(embedding, "encode_uncached", _refuse)
    np.testing.assert_array_equal(embedding.encode_examples(["a", "b"]), first)
    with pytest.raises(ReEmbedded):  # other phrases: another key
        embedding.encode_examples(["a", "c"])


def test_real_model_embeds_offline_and_normalised(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    vectors = embedding.encode(["the angle decides the class", "the angle decides the class", "pizza"])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert float(vectors[0] @ vectors[2]) < 0.5


def test_threads_grading_at_once_get_the_marks_of_sequential_grading():
    from concurrent.futures import ThreadPoolExecutor

    from graders.engines.text.eval.evaluate import grader, rows

    sample = rows("dev")[::3]
    sequential = [grader(r.item, "clauses")(r.answer) for r in sample]
    embedding._answers.clear()
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda r: grader(r.item, "clauses")(r.answer), sample))
    assert parallel == sequential


def test_loading_the_model_prints_no_progress_bar_or_load_report(capfd):
    from transformers.utils import logging as hf_logging

    bars, level = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    capfd.readouterr()
    model = embedding._load_uncached()
    out, err = capfd.readouterr()
    assert model.encode(["x"]).shape == (1, 384)
    assert "Loading weights" not in err + out and "LOAD REPORT" not in err + out, err
    # the quiet settings hold only while loading
    assert (hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()) == (bars, level)


def _wrong_claim_grader():
    from graders.engines.text.scoring import TextGrader

    return TextGrader(TextRubric(
        question="q", kind="explanation", references=["the angle decides the class"],
        concepts=[{"id": "angle", "label": "the geometric relation", "weight": 1.0, "missing": "say which relation",
                   "patterns": [r"\bangle\b"],
                   "partial": [{"credit": 0.5, "patterns": [r"\bdot product\b"]}]}],
        misconceptions=[{"id": "swap", "label": "roles swapped", "penalty": 1.0, "feedback": "Roles mixed up.",
                         "patterns": [r"norm decides", r"angle only scales"]}]))


def test_a_concept_named_only_inside_a_wrong_claim_earns_nothing_and_is_not_called_credited():
    mark = _wrong_claim_grader()("the norm decides the class, the angle only scales the confidence")
    assert mark.fraction == 0 and "Credited" not in mark.feedback
    assert "only inside a claim that does not hold" in mark.feedback and "Roles mixed up." in mark.feedback


def test_a_wrong_claim_in_its_own_clause_beside_a_right_one_costs_a_share_and_goes_to_review():
    grader = _wrong_claim_grader()
    for answer in ("the angle decides the class. the norm decides too",
                   "the angle matters most, the norm decides too"):  # a comma separates two claims
        mark = grader(answer)
        assert mark.fraction == pytest.approx(1 - grader.rubric.side_claim_penalty), answer
        assert mark.needs_review and "Credited: the geometric relation." in mark.feedback


def test_an_uncommaed_wrong_claim_in_the_same_clause_takes_the_concept_with_it():
    mark = _wrong_claim_grader()("the angle is fine and the norm decides")
    assert mark.fraction == 0


def test_the_best_of_several_partial_forms_counts_and_is_named_as_partial():
    mark = _wrong_claim_grader()("the dot product of z and w")
    assert mark.fraction == pytest.approx(0.5) and "Partly credited: the geometric relation." in mark.feedback


def test_a_word_filler_in_a_pattern_never_swallows_a_negation():
    from graders.engines.text.spec import compile_pattern

    filler = compile_pattern(r"probabilit\w*\s+(\w+\s+){0,3}equal")
    assert filler.search("the probabilities all become equal")
    assert not filler.search("the probabilities are not equal")
    assert compile_pattern(r"details?\s+(\w+\s+){0,2}not lost").search("details are not lost")  # literal negation


def test_a_gap_in_a_pattern_ends_where_a_word_starts():
    from graders.engines.text.spec import compile_pattern

    pattern = compile_pattern(r"\btau{gap}(confiden|sure)")
    assert pattern.search("with tau small the model is sure")
    assert not pattern.search("tau measures the angle")  # "sure" inside "measures"


@pytest.mark.parametrize("fragment,expected", [(True, 1.0), (False, 0.5)])
def test_an_embedding_match_lifts_a_fragment_but_not_a_weaker_idea(monkeypatch, fragment, expected):
    from graders.engines.text import scoring

    same = np.ones((1, 384), np.float32) / np.sqrt(384)  # every text embeds alike: cosine 1
    monkeypatch.setattr(scoring.embedding, "encode", lambda texts: np.repeat(same, len(texts), axis=0))
    monkeypatch.setattr(scoring.embedding, "encode_examples", lambda texts: np.repeat(same, len(texts), axis=0))
    grader = scoring.TextGrader(TextRubric(
        question="q", kind="short", references=["r"],
        concepts=[{"id": "a", "label": "a", "weight": 1.0, "missing": "say a", "examples": ["the full idea"],
                   "partial": {"credit": 0.5, "fragment": fragment, "patterns": [r"\bdetails\b"]}}]))
    mark = grader("details")
    assert mark.fraction == expected and mark.needs_review is (not fragment)


def _only_with_grader():
    from graders.engines.text.scoring import TextGrader

    return TextGrader(TextRubric(
        question="q", kind="short", references=["the angle decides the class"],
        concepts=[{"id": "angle", "label": "the geometric relation", "weight": 1.0, "missing": "say which relation",
                   "patterns": [r"\bangle\b"], "partial": {"credit": 0.5, "patterns": [r"\bdistance to w\b"]}}],
        misconceptions=[{"id": "second", "label": "a second mechanism", "penalty": 1.0, "feedback": "Not a distance.",
                         "only_with": ["angle"], "patterns": [r"\beuclidean\b"]}],
        doubts=[{"id": "odd", "label": "an odd remark", "patterns": [r"\bodd\b"]}]))


def test_an_only_with_claim_alone_is_a_weaker_form_beside_its_concept_a_wrong_claim():
    grader = _only_with_grader()
    alone = grader("the euclidean distance to w")
    assert alone.fraction == pytest.approx(0.5) and "Not a distance." not in alone.feedback
    beside = grader("the angle decides. it also uses the euclidean distance to w")
    assert beside.fraction == pytest.approx(1 - grader.rubric.side_claim_penalty)
    assert beside.needs_review and "Not a distance." in beside.feedback


def test_a_doubt_sends_the_mark_to_review_without_changing_the_points():
    grader = _only_with_grader()
    plain, odd = grader("the angle"), grader("the angle, and an odd remark")
    assert plain.fraction == odd.fraction == 1
    assert not plain.needs_review and odd.needs_review


def test_a_group_named_at_marks_the_claim_for_negation_after_a_clause_wide_condition():
    from graders.engines.text.scoring import TextGrader

    grader = TextGrader(TextRubric(
        question="q", kind="short", references=["r"],
        concepts=[{"id": "a", "label": "a", "weight": 1.0, "missing": "say a", "patterns": [r"\bangle\b"]}],
        misconceptions=[{"id": "d", "label": "distance", "penalty": 1.0, "feedback": "No distance.",
                         "patterns": [r"^(?!.*\bweights?\b).*?(?P<at>\beuclid)"]}]))
    assert grader("it is the euclidean distance").fraction == 0
    assert grader("it is not the euclidean distance, it is the angle").fraction == 1
