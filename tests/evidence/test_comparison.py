"""The comparison against hand-worked and published figures."""

from __future__ import annotations

import math

import pytest
from scipy.stats import chi2

from codesign.evidence import Observation, PeriodData, byar_interval, compare, infer_multiplier, wilson_interval
from codesign.evidence.compare import opportunity
from codesign.evidence.funnel import Point, funnel_plot, winsorised
from codesign.evidence.intervals import Z95


# R. G. Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven
# methods", Statistics in Medicine 17 (1998) 857-872, Table II, method 3 (Wilson score, no
# continuity correction), to the four places printed there.
@pytest.mark.parametrize(("count", "n", "lower", "upper"), [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe_1998(count: int, n: int, lower: float, upper: float) -> None:
    low, high = wilson_interval(count, n)
    assert (round(low, 4), round(high, 4)) == (lower, upper)


# The exact (Garwood 1936) Poisson limits that Byar's method approximates, as tabulated for
# example in Breslow and Day, Statistical Methods in Cancer Research vol. II (1987), appendix
# (chi-square definition: lower = chi2(0.025, 2O)/2, upper = chi2(0.975, 2O+2)/2). Byar's is
# known to agree within a fraction of a percent from about 10 events up.
@pytest.mark.parametrize(("count", "lower", "upper"), [(10, 4.795, 18.390), (65, 50.166, 82.848),
                                                       (1045, 982.594, 1110.331)])
def test_byar_is_close_to_the_exact_poisson_limits(count: int, lower: float, upper: float) -> None:
    low, high = byar_interval(count)
    assert low == pytest.approx(lower, rel=2e-3)
    assert high == pytest.approx(upper, rel=2e-3)
    # and the table values are the exact limits (a check on the figures above, not on our code)
    assert chi2.ppf(0.025, 2 * count) / 2 == pytest.approx(lower, abs=1e-3)


def test_byar_worked_by_hand_for_65_events() -> None:
    # O = 65: 1 - 1/585 - 1.96/(3 x 8.0623) = 0.917253; cubed x 65 = 50.163.
    # O+1 = 66: 1 - 1/594 + 1.96/(3 x 8.1240) = 1.078738; cubed x 66 = 82.849.
    low, high = byar_interval(65)
    assert round(low, 2) == 50.16 and round(high, 2) == 82.85
    assert byar_interval(0)[0] == 0.0


def test_an_interval_is_computed_only_where_the_file_gives_none() -> None:
    # 45 of 60 = 75%. Wilson by hand: 2r + z² = 93.8415; z √(z² + 4r(1 - r/n)) = 1.96 x √48.8415
    # = 13.698; 2(n + z²) = 127.683; (93.8415 ∓ 13.698) / 127.683 = 0.6277 to 0.8422.
    data = {"2024": PeriodData(Observation("A", 75.0, count=45, denominator=60))}
    result = compare("i", "A", data, "higher")
    assert result.interval_source == "wilson"
    assert (round(result.lower_ci95 or 0, 2), round(result.upper_ci95 or 0, 2)) == (62.77, 84.22)
    given = {"2024": PeriodData(Observation("A", 75.0, 60.0, 85.0, count=45, denominator=60))}
    assert compare("i", "A", given, "higher").lower_ci95 == 60.0


def test_a_rate_gets_byar_scaled_to_the_multiplier() -> None:
    # 65 events in 20,000 people = 3.25 per 1,000; Byar 50.163-82.849 events -> 2.508-4.142 per 1,000.
    data = {"2024": PeriodData(Observation("A", 3.25, count=65, denominator=20_000))}
    result = compare("i", "A", data, "lower")
    assert result.multiplier == 1000 and result.interval_source == "byar"
    assert (round(result.lower_ci95 or 0, 3), round(result.upper_ci95 or 0, 3)) == (2.508, 4.142)


def _peers(values: list[float], denominator: float) -> tuple[Observation, ...]:
    return tuple(Observation(f"P{i:02}", v, denominator=denominator) for i, v in enumerate(values))


def test_opportunity_for_a_percentage_worked_by_hand() -> None:
    # Higher is better. Peers 50..80 (step 3.33); the best five are 80, 76.67, 73.33, 70, 66.67
    # with mean 73.33. The area: 60% of 2,000 people. (73.33 - 60) x 2,000 / 100 = 266.7 more people.
    values = [50.0, 53.33, 56.67, 60.0, 63.33, 66.67, 70.0, 73.33, 76.67, 80.0]
    data = {"2024": PeriodData(Observation("A", 60.0, count=1200, denominator=2000), peers=_peers(values, 1000))}
    result = compare("i", "A", data, "higher")
    assert result.multiplier == 100
    assert result.best5 == ("P09", "P08", "P07", "P06", "P05")
    assert result.best5_mean == pytest.approx(73.334)
    assert result.peer_mean == pytest.approx(65.0)
    assert result.opportunity == pytest.approx(266.68)


def test_opportunity_for_a_rate_per_1000_worked_by_hand() -> None:
    # Lower is better. The area: 5.0 per 1,000 (200 events in 40,000). The best five peers (lowest):
    # 3, 3.5, 3.5, 4 and 3.5 -> mean 3.5. Matching them avoids (5.0 - 3.5) x 40,000 / 1,000 = 60 events.
    values = [3.0, 3.5, 3.5, 4.0, 3.5, 6.0, 7.0, 8.0, 4.5, 5.5]
    data = {"2024": PeriodData(Observation("A", 5.0, count=200, denominator=40_000), peers=_peers(values, 30_000))}
    result = compare("i", "A", data, "lower")
    assert result.multiplier == 1000
    assert result.best5_mean == pytest.approx(3.5)
    assert result.opportunity == pytest.approx(60.0)


def test_no_opportunity_when_already_at_or_beyond_the_best_five() -> None:
    assert opportunity(80.0, 73.3, 2000, 100, "higher") == 0.0
    assert opportunity(3.0, 3.5, 40_000, 1000, "lower") == 0.0
    assert opportunity(3.5, 3.5, 40_000, 1000, "lower") == 0.0
    assert opportunity(60.0, None, 2000, 100, "higher") is None


def test_the_multiplier_is_inferred_only_when_the_figures_agree() -> None:
    assert infer_multiplier([Observation("A", 12.5, count=25, denominator=200)]) == 100
    assert infer_multiplier([Observation("A", 3.12, count=25, denominator=8000)]) == 1000  # 3.125 rounded
    assert infer_multiplier([Observation("A", 40.0, count=25, denominator=200)]) is None


def test_the_default_period_is_the_latest_with_a_value_and_the_trend_lists_every_period() -> None:
    data = {p: PeriodData(Observation("A", v), national=Observation("E", 50.0))
            for p, v in (("2021/22", 40.0), ("2022/23", 42.0), ("2023/24", None))}
    result = compare("i", "A", data, "higher")
    assert result.period == "2022/23" and result.national == 50.0
    assert [t["period"] for t in result.trend] == ["2021/22", "2022/23", "2023/24"]
    assert [t["value"] for t in result.trend] == [40.0, 42.0, None]


# Over-dispersion (Spiegelhalter 2005). Ten peers of 10,000 people around 50%: s(n) = 100 x
# sqrt(0.25 / 10,000) = 0.5 percentage points, so each peer's z is (value - 50) / 0.5.
def _funnel_for(zs: list[float]):  # type: ignore[no-untyped-def]
    peers = [Point(f"P{i}", 50.0 + 0.5 * z, 10_000) for i, z in enumerate(zs)]
    return funnel_plot(peers, peers, 50.0, 100.0, proportion=True)


def test_overdispersion_applies_when_peers_vary_more_than_chance() -> None:
    # z = -3,-2,-1,-1,0,0,1,1,2,3; Winsorised at 10%: -2,-2,-1,-1,0,0,1,1,2,2; Σz² = 20, φ = 2.0.
    # Iφ = 20 > χ²(0.95, 9) = 16.92, so τ² = (20 - 9) / (40 - 160/40) = 11/36 = 0.30556
    # (w = 1/0.25 = 4 each). 95% limits at 10,000: 50 ± 1.96 x sqrt(0.25 + 0.30556) = 50 ± 1.4609.
    funnel = _funnel_for([-3, -2, -1, -1, 0, 0, 1, 1, 2, 3])
    assert funnel.phi == pytest.approx(2.0)
    assert funnel.overdispersed
    assert funnel.tau2 == pytest.approx(11 / 36)
    at = next(x for x in funnel.limits if x.denominator == 10_000)
    assert at.lower95 == pytest.approx(50 - Z95 * math.sqrt(0.25 + 11 / 36))
    assert round(at.upper95, 3) == 51.461
    # P0 and P9 sit 1.5 points from the centre: 2.01 adjusted standard errors (1.5 / 0.745), so
    # beyond the 95% limits but inside the 99.8% ones.
    assert set(funnel.outside95) == {"P0", "P9"} and funnel.outside998 == ()


def test_overdispersion_does_not_apply_when_peers_vary_as_chance_would() -> None:
    # z = -1.5,-1,-0.5,-0.5,0,0,0.5,0.5,1,1.5 -> Winsorised Σz² = 5, φ = 0.5; Iφ = 5 < 16.92.
    funnel = _funnel_for([-1.5, -1, -0.5, -0.5, 0, 0, 0.5, 0.5, 1, 1.5])
    assert funnel.phi == pytest.approx(0.5)
    assert not funnel.overdispersed and funnel.tau2 == 0.0
    at = next(x for x in funnel.limits if x.denominator == 10_000)
    assert (round(at.lower95, 2), round(at.upper95, 2)) == (49.02, 50.98)
    assert funnel.outside95 == ()


def test_winsorising_pulls_in_a_tenth_at_each_end() -> None:
    assert winsorised([5, -5, 0, 1, 2, 3, 4, -1, -2, -3]) == [4, -3, 0, 1, 2, 3, 4, -1, -2, -3]
    assert winsorised([9, 0, 1]) == [9, 0, 1]  # fewer than 10: nothing to pull in


def test_an_area_far_from_its_peers_lies_outside_the_funnel() -> None:
    peers = _peers([49.5, 50.0, 50.5, 50.0, 49.8, 50.2, 50.1, 49.9, 50.3, 49.7], 10_000)
    data = {"2024": PeriodData(Observation("A", 44.0, count=4400, denominator=10_000), peers=peers)}
    result = compare("i", "A", data, "higher")
    assert result.funnel is not None and result.funnel.outside998 == ("A",)
    document = result.to_json()
    assert document["funnel"]["outside"] == ["A"]
    assert {"denominator", "lower95", "upper95", "lower998", "upper998"} <= set(document["funnel"]["limits"][0])


def test_the_data_unit_comes_from_value_denominator_and_count() -> None:
    from codesign.evidence import data_multiplier
    per_100k = [Observation("A", 90.95, count=176, denominator=193512), Observation("B", 80.0, count=160,
                                                                                    denominator=200000)]
    assert data_multiplier(per_100k) == 100_000
    assert data_multiplier([Observation("A", 60.0, count=1200, denominator=2000)]) == 100
    assert data_multiplier([Observation("A", 3.1, count=62, denominator=20000)]) == 1_000
    assert data_multiplier([Observation("A", 60.0), None, Observation("B", 0.0, count=0, denominator=10)]) is None
