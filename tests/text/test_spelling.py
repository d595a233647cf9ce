"""Typo tolerance: a typo of a rubric word is read as that word; real words, inflections and
prefixes are left alone."""
import pytest

from graders.engines.text.spelling import Speller, rubric_vocabulary, typo_distance

SPELLER = Speller(rubric_vocabulary(["the angle between z and w_c", "the original image", "uniform",
                                     "the decoder", "probability"], [r"\brotat\w*", "compression"]))


@pytest.mark.parametrize("typed, meant", [
    ("angel", "angle"), ("unifrom", "uniform"), ("orginal imgae", "original image"),
    ("compresion", "compression"), ("probabilty", "probability"), ("compresions", "compressions"),
])
def test_a_typo_of_a_rubric_word_is_read_as_that_word(typed, meant):
    assert SPELLER.correct(typed) == meant


@pytest.mark.parametrize("word", [
    "notation",       # a real word: only a swap of neighbouring letters would be a typo
    "encoder",        # another first letter: a prefix is meaning, not a typo
    "unrotated", "decodes", "decoders",  # endings are inflections
    "probabilities",  # the plural of a known word
    "norm", "form",   # too short to tell
])
def test_real_words_inflections_and_prefixes_are_left_alone(word):
    assert SPELLER.correct(word) == word


def test_the_distance_counts_a_swap_as_one_edit_and_stops_at_its_limit():
    assert typo_distance("unifrom", "uniform", 2) == 1
    assert typo_distance("temprature", "temperature", 2) == 1
    assert typo_distance("rotaion", "rotation", 1) == 1
    assert typo_distance("unrotated", "rotated", 1) == 2
    assert typo_distance("a" * 20, "b" * 20, 2) == 3
