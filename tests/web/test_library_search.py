"""Full-text search in the scenario library: words of the title, summary, learning
objectives or setting; case and accents do not matter; every word must be found."""

import pytest

from tests.web.test_scenario_pages import listed_slugs, shipped, text_of

__all__ = ["shipped"]  # the fixture, imported for pytest

ICU = "icu-unplanned-extubation-during-turn"
GP = "gp-methotrexate-daily-near-miss"
PAEDIATRIC = "paediatric-sepsis-delayed-escalation"
PPH = "postpartum-haemorrhage-delayed-escalation"


@pytest.mark.parametrize("words", ["capnography", "CAPNOGRAPHY", "capno", "intensive care",
                                   "Intensive   CARE"])
def test_words_of_the_objectives_title_or_setting_find_the_scenario(instructor_client,
                                                                   shipped, words):
    found = listed_slugs(instructor_client.get("/scenarios/", query_string={"q": words}))
    assert ICU in found
    assert GP not in found and PPH not in found


def test_every_word_must_be_found(instructor_client, shipped):
    assert GP in listed_slugs(instructor_client.get("/scenarios/?q=methotrexate+week"))
    page = instructor_client.get("/scenarios/?q=methotrexate+capnography")
    assert listed_slugs(page) == set()
    text = text_of(page)
    assert "No scenario has all the words “methotrexate capnography”" in text
    assert "Clear filters" in text


def test_words_match_from_their_start_only(instructor_client, shipped):
    assert listed_slugs(instructor_client.get("/scenarios/?q=trexate")) == set()


def test_search_combines_with_the_filters_and_is_kept_in_the_form(instructor_client,
                                                                  shipped):
    both = listed_slugs(instructor_client.get("/scenarios/?q=escalat"))
    assert {PAEDIATRIC, PPH} <= both
    page = instructor_client.get("/scenarios/?q=escalat&setting=paediatrics")
    assert listed_slugs(page) == {PAEDIATRIC}
    assert 'value="escalat"' in page.get_data(as_text=True)


def test_odd_input_is_harmless(instructor_client, shipped):
    for words in ("%", "_", "\x00", "x" * 5000, "' or 1=1 --"):
        response = instructor_client.get("/scenarios/", query_string={"q": words})
        assert response.status_code == 200
