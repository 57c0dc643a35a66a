from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.contract import money
from codesign.contract.payment import Line, Year, preview


@pytest.mark.parametrize(("text", "pence"), [("12,000,000", 1_200_000_000), ("£1,234.5", 123_450), ("0.01", 1),
                                             ("1000000", 100_000_000)])
def test_parse_pounds(text: str, pence: int) -> None:
    assert money.parse_pounds(text) == pence


@pytest.mark.parametrize("text", ["", "12,00", "1.234", "-5", "ten pounds", "1e6", "\u0663", "\u00b3", "1_000",
                                  "9" * 13, "9" * 5000, "1,000,000,000,000", "\uff11"])
def test_parse_pounds_refuses_what_is_not_money(text: str) -> None:
    assert money.parse_pounds(text) is None


@pytest.mark.parametrize(("text", "bp"), [("10", 1000), ("12.5%", 1250), ("0", 0), ("100", 10000), ("33.33", 3333)])
def test_parse_percent(text: str, bp: int) -> None:
    assert money.parse_percent_bp(text) == bp


@pytest.mark.parametrize("text", ["101", "12.345", "-1", "x", "\u0665", "\u00b2", "1_0", "9" * 5000, "nan", "1e1"])
def test_parse_percent_refuses(text: str) -> None:
    assert money.parse_percent_bp(text) is None


MONEYISH = st.text(alphabet=st.sampled_from("0123456789,.£% -+e_\u0663\u00b2\uff11\x00"), max_size=20)


@settings(max_examples=300, deadline=None)
@given(st.one_of(MONEYISH, st.text(max_size=20)))
def test_money_parsers_never_raise_and_stay_in_bounds(text: str) -> None:
    pence = money.parse_pounds(text)
    assert pence is None or 0 <= pence < 10**14
    bp = money.parse_percent_bp(text)
    assert bp is None or 0 <= bp <= money.FULL_BP
    if pence is not None or bp is not None:
        assert text.strip().lstrip("£").strip().rstrip("%").strip().replace(",", "").replace(".", "").isascii()


@given(st.integers(0, 10**14 - 1))
def test_every_amount_in_pence_reads_back(pence: int) -> None:
    assert money.parse_pounds(f"£{pence // 100:,}.{pence % 100:02d}") == pence


def test_format() -> None:
    assert money.format_pence(123_456_789) == "£1,234,567.89"
    assert money.format_bp(1250) == "12.5%" and money.format_bp(1000) == "10%" and money.format_bp(3333) == "33.33%"


def test_share_rounds_half_to_even() -> None:
    assert money.share_of(5, 5000) == 2  # 2.5 -> 2
    assert money.share_of(7, 5000) == 4  # 3.5 -> 4


def test_allocation_adds_up_to_the_penny_with_largest_remainder() -> None:
    assert money.allocate(100, [3334, 3333, 3333]) == [34, 33, 33]
    assert money.allocate(1, [5000, 5000]) == [1, 0]  # tie: earlier rank first
    assert money.allocate(0, [5000, 5000]) == [0, 0]


@settings(max_examples=200, deadline=None)
@given(total=st.integers(0, 10**12), raw=st.lists(st.integers(0, 100), min_size=1, max_size=40))
def test_allocation_always_sums_exactly(total: int, raw: list[int]) -> None:
    if sum(raw) == 0:
        raw[0] = 1
    weights = money.suggest_weights([float(r) for r in raw], [True] * len(raw))
    assert sum(weights) == 10000
    parts = money.allocate(total, weights)
    assert sum(parts) == total and all(p >= 0 for p in parts)


def test_suggest_weights_proportional_and_gaps_get_zero() -> None:
    assert money.suggest_weights([0.8, 0.8, 0.4], [True, True, True]) == [4000, 4000, 2000]
    assert money.suggest_weights([0.9, 0.5, 0.5], [False, True, True]) == [0, 5000, 5000]
    assert money.suggest_weights([None, None], [True, True]) == [5000, 5000]


def test_earned_linear_and_all_or_nothing() -> None:
    assert money.earned(10_000, "linear", 5000).at_level == 5000
    assert money.earned(10_000, "all_or_nothing", 9999).at_level == 0
    assert money.earned(10_000, "all_or_nothing", 10000).at_level == 10_000
    e = money.earned(333, "linear", 5000)
    assert (e.at_baseline, e.at_target, e.at_level) == (0, 333, 166)  # 166.5 -> 166 (half to even)


def test_preview_totals_add_up() -> None:
    years = [Year("2026/27", 0, True), Year("2027/28", 1000, False), Year("2028/29", 1500, False)]
    lines = [Line("A", 3333, "linear", False), Line("B", 3333, "linear", False), Line("C", 3334, "all_or_nothing", False)]
    result = preview(1_200_000_001, years, lines, 5000)
    assert result.year_totals == [0, 120_000_000, 180_000_000]
    for y in range(3):
        totals = result.totals(y)
        assert totals.at_stake == result.year_totals[y]
        assert totals.at_level == sum(cells[y].at_level for _, cells in result.rows)
    assert result.rows[2][1][1].at_level == 0  # all-or-nothing at 50%
