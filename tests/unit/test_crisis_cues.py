"""The self-harm cue list: every reviewed phrase and its Danish twin is found in ordinary
writing, and the same words in another sense are not."""

import pytest

from simdebrief.crisis_cues import cue_list, has_self_harm_cue, normalise

PAIRS = cue_list().pairs


def test_every_english_cue_has_a_danish_twin_and_a_review_date():
    assert len(PAIRS) >= 15
    assert all(english and danish for english, danish in PAIRS)
    assert cue_list().reviewed


@pytest.mark.parametrize(("english", "danish"), PAIRS)
def test_each_cue_and_its_danish_twin_is_found_inside_a_sentence(english, danish):
    assert has_self_harm_cue(f"Honestly... sometimes {english.upper()}, I think.")
    assert has_self_harm_cue(f"Ærligt talt: nogle gange — {danish}!")


@pytest.mark.parametrize("text", [
    "Sometimes I think everyone would be better off without me",
    "I   DON'T want to live like this",
    "i dont want to live like this",           # no apostrophe
    "Jeg vil gerne DØ",
    "jeg vil gerne doe",                        # ø typed without the Danish keyboard
    "Jeg har haft selvmordstanker.",
    "Jeg tænker på at tage mit eget liv",
    "jeg tÆnker på selvmord",
    "everyone would be better-off\twithout\nme",
])
def test_true_positives_survive_case_accents_and_punctuation(text):
    assert has_self_harm_cue(text)


@pytest.mark.parametrize("text", [
    "I am going to kill it at the exam",
    "I could die of embarrassment",
    "I wanted to die of embarrassment when I dropped the syringe",
    "Jeg døde af grin bagefter",
    "jeg kunne dø af skam",
    "The patient was suicidal and we did the suicide risk assessment",
    "I cut myself on an ampoule",
    "I am cutting myself some slack this week",
    "We were killing it as a team",
    "Dying to get back into the sim lab",
    "The debrief was about a patient's suicide attempt",
    "",
    None,
])
def test_the_same_words_in_another_sense_are_not_cues(text):
    assert not has_self_harm_cue(text)


def test_any_of_several_texts_counts():
    assert has_self_harm_cue("fine", None, "I want to die")
    assert not has_self_harm_cue("fine", "tired")


def test_normalise_spells_out_danish_letters_and_collapses_punctuation():
    assert normalise("Å, æ — Ø!  é") == " aa ae oe e "
    assert normalise("don't") == " dont "
    assert normalise("  ...  ") == ""
