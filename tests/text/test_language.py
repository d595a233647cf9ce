"""Clause splitting, negation scope and the keyword-list guard (pure text, no model)."""
from graders.engines.text.language import clauses, has_negation, negated_at, normalise, structure


def _negated(text: str, word: str) -> bool:
    text = normalise(text)
    for clause in clauses(text):
        at = clause.find(word)
        if at >= 0:
            return negated_at(clause, at, at + len(word))
    raise AssertionError(f"{word!r} not in {text!r}")


def test_symbols_and_latex_become_words():
    assert normalise(r"τ = 1/‖z‖ → \tau") == "tau = 1/||z|| -> tau"


def test_connectives_split_claims():
    assert clauses(normalise("It is not the norm but the angle that decides.")) == [
        "it is not the norm", "the angle that decides"]
    assert len(clauses(normalise("Details go to the decoder, so the bottleneck keeps semantics"))) == 2


def test_negation_before_a_match_negates_it():
    assert _negated("Skip connections do not pass spatial detail", "pass")
    assert _negated("The images, not rotated.", "rotated")
    assert _negated("Sie geben keine Details weiter", "details")


def test_denial_after_a_match_negates_it():
    assert _negated("The angle between z and w_c does not matter", "angle")


def test_negation_scope_ends_at_comma_but_and_not_only():
    assert not _negated("the norm is not important, the angle is", "angle")
    assert not _negated("not the norm but the angle decides", "angle")
    assert not _negated("not only the angle matters", "angle")


def test_negated_loss_is_a_positive_claim():
    assert not _negated("details reach the decoder without losing the fine edges", "fine")
    assert not has_negation("without losing detail")
    assert has_negation("they do not pass detail")


def test_keyword_dump_is_detected_but_terse_sentences_are_not():
    assert structure("skip connections low-level detail encoder decoder spatial abstract bottleneck").is_keyword_list
    assert structure("fine details, encoder, decoder, bottleneck, abstract, semantic").is_keyword_list
    assert not structure("carry fine details from encoder to decoder").is_keyword_list
    assert not structure("temperature; large ||z|| -> confident").is_keyword_list
    assert not structure("one-hot").is_keyword_list  # too short to be a dump


def test_a_loss_right_after_the_match_denies_it_and_a_negated_loss_does_not():
    from graders.engines.text.language import negated_at

    for clause, denied in (("fine details from the encoder are lost", True),
                           ("fine details from the encoder are not lost", False),
                           ("feine details gehen verloren", True)):
        end = clause.index("details") + len("details")
        assert negated_at(clause, clause.index("fine") if "fine" in clause else 0, end) is denied, clause


def test_a_dash_between_words_starts_a_new_claim_but_a_minus_between_symbols_does_not():
    assert clauses(normalise("it need not store the details - those go over the skips")) == [
        "it need not store the details", "those go over the skips"]
    assert len(clauses(normalise("the loss is ||x_i - f(r(x_i))||^2"))) == 1
