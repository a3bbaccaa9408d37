"""Long runs of capitalised words in an article (a telex in capitals, a list without
punctuation, a hostile text) cost time in proportion to their length: the countries named
are looked up only in spans as long as a country's name (the loop over every span of a
2,000-word run took minutes), and a leading run of function words is dropped in a loop
("The The The ..." exceeded Python's recursion limit: an internal error)."""

from __future__ import annotations

import pytest

from sitewatch.text.extract import extract_sites
from sitewatch.text.gazetteer import Gazetteer


def test_a_long_run_of_capitalised_words_looks_up_few_spans(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = Gazetteer.country

    def counted(self: Gazetteer, name: str) -> object:
        calls["n"] += 1
        return real(self, name)

    monkeypatch.setattr(Gazetteer, "country", counted)
    words = 300
    found = extract_sites("Perm " * words + "plant.")
    assert [c["place"] for c in found] == ["Perm"]
    assert calls["n"] < 12 * words  # every span: 45,000 calls


def test_a_long_run_of_function_words_is_no_recursion() -> None:
    found = extract_sites("The " * 1500 + "plant in Perm.")
    assert [c["place"] for c in found] == ["Perm"]


class _CountedPasses(list):  # type: ignore[type-arg]
    passes = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        _CountedPasses.passes += 1
        return super().__iter__()


def test_the_kind_of_each_mention_reads_its_neighbours_not_every_sentence(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each of 400 mentions looked for its kind in the two sentences either side by a pass
    over every sentence of the article: quadratic in its length."""
    import sitewatch.text.places as places

    real = places.sentences
    monkeypatch.setattr(places, "sentences", lambda text: _CountedPasses(real(text)))
    _CountedPasses.passes = 0
    found = extract_sites("A plant in Perm. " * 400)
    assert [c["place"] for c in found] == ["Perm"]
    assert _CountedPasses.passes < 20  # one per mention: 400 more
