"""Results in plain words (codesign.voting.plain): one count of people per group, every band in
words, the reasons for what is not shown, and no statistics."""

from __future__ import annotations

import pytest

from codesign.voting.plain import (
    AGREED,
    agreed_by_words,
    agreement_words,
    hidden_cell_words,
    hidden_groups_words,
    noun,
    ordinal,
    places_words,
    plain_cell,
    rule_words,
)
from codesign.voting.results import GroupOutcome
from codesign.voting.types import DEFAULT_RULE, ConsensusRule

STATISTICS = ("Kendall", "p =", "p=", "n=", "combined score", "%")


def rating(counts: list[int], unable: int = 0, rank: int = 1) -> GroupOutcome:
    """A group's ratings of one outcome: counts of 1..9 and the "I cannot score this" answers."""
    assert len(counts) == 9
    return GroupOutcome(n=sum(counts), score=None, rank=rank, distribution=(*counts, unable))


def no_statistics(lines: tuple[str, ...] | list[str]) -> None:
    for line in lines:
        for word in STATISTICS:
            assert word.lower() not in line.lower(), (word, line)


def test_counts_are_of_the_group_and_the_middle_band_is_in_words() -> None:
    # 10 patients: 8 critical (7, 8, 9), 2 in the middle (5, 6), none 1-3.
    cell = plain_cell("rating", "Patients", 10, rating([0, 0, 0, 0, 1, 1, 2, 3, 3]))
    assert cell.lines == (
        "8 of 10 patients said critical (7 to 9)",
        "2 of 10 said important but not critical (4 to 6)",
        "0 of 10 said not important (1 to 3)",
    )
    assert [(b.key, b.count) for b in cell.scored_bands] == [("low", 0), ("mid", 2), ("high", 8)]
    assert cell.not_scored == 0 and cell.people_words == "10 people"
    no_statistics(cell.lines)


def test_i_cannot_score_this_and_no_answer_are_counted_so_the_bar_and_the_sentences_agree() -> None:
    # A group of 10: 6 scored, 3 said "I cannot score this", 1 did not answer. The consensus rule's
    # shares are of the 6, but what people read is one count for the group: 10, everywhere.
    cell = plain_cell("rating", "Carers", 10, rating([1, 0, 0, 1, 0, 0, 2, 2, 0], unable=3))
    assert cell.lines == (
        "4 of 10 carers said critical (7 to 9)",
        "1 of 10 said important but not critical (4 to 6)",
        "1 of 10 said not important (1 to 3)",
        "3 of 10 said “I cannot score this”",
        "1 of 10 did not answer",
    )
    assert sum(b.count for b in cell.scored_bands) + cell.not_scored == cell.people == 10
    assert all(line.split(" of ")[1].startswith("10 ") for line in cell.lines)


def test_zero_answers() -> None:
    nobody = plain_cell("rating", "Clinicians", 6, rating([0] * 9))
    assert nobody.lines == ("None of the 6 people in this group answered this.",)
    assert nobody.bands == ()
    missing = plain_cell("rating", "Clinicians", 6, None)
    assert missing.lines == ("None of the 6 people in this group answered this.",) and missing.bands == ()
    only_unable = plain_cell("rating", "Clinicians", 6, rating([0] * 9, unable=6))
    assert only_unable.lines[-1] == "6 of 6 said “I cannot score this”"
    assert only_unable.lines[0] == "0 of 6 clinicians said critical (7 to 9)"


def test_a_hidden_cell_shows_no_figure_and_says_why() -> None:
    cell = plain_cell("rating", "Patients", 9, rating([0, 0, 0, 0, 0, 0, 1, 1, 1], unable=6), hidden=True,
                      min_size=5)
    assert cell.hidden and cell.bands == () and cell.rank is None
    assert cell.lines == ("Not shown: fewer than 5 patients scored this. With so few, you could work out how "
                          "one person answered.",)
    assert not any(ch.isdigit() for ch in cell.lines[0].replace("5", ""))
    assert "were asked about this" in hidden_cell_words("pairwise", "Carers", 3)


def test_hidden_groups_are_named_with_the_reason() -> None:
    one = hidden_groups_words(["Commissioners"], 5)
    assert one.startswith("We do not show how commissioners answered. There were fewer than 5 people")
    two = hidden_groups_words(["Carers", "Commissioners"], 4)
    assert two.startswith("We do not show how carers and commissioners answered. Each group had fewer than 4 people")
    assert "still count" in two


@pytest.mark.parametrize(("consensus", "words"), [("in", "Agreed: keep in"), ("out", "Agreed: leave out"),
                                                   ("none", "Not agreed"), (None, None)])
def test_agreement_in_words(consensus: str | None, words: str | None) -> None:
    assert agreement_words(consensus) == words


def test_other_methods_say_where_the_group_put_it() -> None:
    ranked = GroupOutcome(n=10, score=0.5, rank=2, mean_points=3.0, times_ranked=7, first_places=3)
    cell = plain_cell("ranking", "Patients", 10, ranked)
    assert cell.lines == ("Patients put it 2nd.", "7 of 10 patients put it on their list, and 3 of 10 put it first.")
    assert cell.short == "2nd" and cell.bands == ()
    dots = GroupOutcome(n=4, score=0.2, rank=1, mean_allocation=2.5, times_given=3)
    assert plain_cell("points", "Carers", 4, dots).lines[1] == "3 of 4 carers gave it dots: 10 dots in all."
    pair = GroupOutcome(n=5, score=0.6, rank=3, wins=12, losses=8, ties=1, appearances=21)
    assert plain_cell("pairwise", "Clinicians", 6, pair).lines[1] == (
        "When clinicians compared it with another outcome, they chose it 12 of 20 times.")
    for each in (cell, plain_cell("points", "Carers", 4, dots)):
        no_statistics(each.lines)


def test_small_words() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
    assert noun("Patients") == "patients" and noun("NHS staff") == "NHS staff" and noun("A") == "A"
    assert agreed_by_words(["Patients", "Carers"]) == "Patients and carers agreed to keep it in, but not every group did."
    assert agreed_by_words([]) == ""
    assert places_words([("Patients", 1), ("Clinicians", 8)]) == "patients put it 1st, clinicians put it 8th"
    assert set(AGREED) == {"in", "out", "none"}


def test_the_rule_in_words_follows_the_round() -> None:
    default = rule_words(DEFAULT_RULE)
    assert default[0].startswith("Agreed: keep in means at least 70 in every 100 people in every group said critical")
    assert "fewer than 15 in every 100 said not important" in default[0]
    assert "“I cannot score this”" in default[-1]
    strict = rule_words(ConsensusRule(in_min_pct_7_9=0.8, in_max_pct_1_3=0.1, patient_veto_in=True), "Patients")
    assert "at least 80 in every 100" in strict[0] and "fewer than 10 in every 100" in strict[0]
    assert "kept in when patients alone agreed" in strict[2]
    no_statistics([line.replace("in every 100", "") for line in default])
