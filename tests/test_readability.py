"""Plain words: every outcome description in seed/ reads at age 9 to 11 (NHS content guidance)."""

from __future__ import annotations

import pytest

from codesign.library import population_templates
from codesign.readability import measure, sentences_of, syllables

DESCRIPTIONS = [(slug, o.key, o.description) for slug, t in sorted(population_templates().items())
                for o in t.outcomes]


@pytest.mark.parametrize(("word", "count"), [
    ("cat", 1), ("care", 1), ("helped", 1), ("takes", 1), ("people", 2), ("sugar", 2), ("places", 2),
    ("needed", 2), ("lonely", 2), ("video", 3), ("hospital", 3), ("amputation", 4), ("GP", 2), ("75", 2),
])
def test_syllables_by_rule_of_thumb(word: str, count: int) -> None:
    assert syllables(word) == count


def test_flesch_reading_ease_of_known_text() -> None:
    simple = measure("The cat sat on the mat.")
    assert (simple.sentences, simple.words, simple.syllables, simple.longest_sentence) == (1, 6, 6, 6)
    assert simple.flesch == pytest.approx(206.835 - 1.015 * 6 - 84.6)
    hard = measure("Hyperosmolar hyperglycaemic state necessitates immediate hospitalisation, "
                   "particularly amongst individuals experiencing concurrent illnesses.")
    assert hard.flesch < 0
    assert sentences_of("One. Two words! Three? ") == ["One.", "Two words!", "Three?"]
    assert measure("").flesch == 0.0


def test_the_seed_has_descriptions_to_check() -> None:
    assert len(DESCRIPTIONS) == 41 and all(text for _slug, _key, text in DESCRIPTIONS)


@pytest.mark.parametrize(("slug", "key", "text"), DESCRIPTIONS, ids=[f"{s}:{k}" for s, k, _ in DESCRIPTIONS])
def test_seed_description_reads_at_age_9_to_11(slug: str, key: str, text: str) -> None:
    found = measure(text)
    assert found.flesch >= 80, f"{slug} {key}: Flesch {found.flesch:.1f}"
    long = [s for s in sentences_of(text) if measure(s).words > 20]
    assert not long, f"{slug} {key}: sentences over 20 words: {long}"
