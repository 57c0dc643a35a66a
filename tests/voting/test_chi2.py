"""The chi-squared tail Kendall's W uses (voting/agreement.chi2_sf) against scipy's."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chi2

from codesign.voting.agreement import chi2_sf


@pytest.mark.parametrize("df", [1, 2, 3, 4, 7, 8, 79, 80, 199])
@pytest.mark.parametrize("x", [0.001, 0.5, 1.0, 3.84, 10.0, 79.0, 150.0, 400.0, 2000.0])
def test_matches_scipy_on_a_grid(df: int, x: float) -> None:
    expected = float(chi2.sf(x, df))
    assert math.isclose(chi2_sf(df, x), expected, rel_tol=1e-9, abs_tol=1e-300)


@given(st.integers(min_value=1, max_value=300), st.floats(min_value=0.0, max_value=5000.0))
def test_matches_scipy_anywhere(df: int, x: float) -> None:
    assert math.isclose(chi2_sf(df, x), float(chi2.sf(x, df)), rel_tol=1e-8, abs_tol=1e-290)


def test_known_values() -> None:
    assert math.isclose(chi2_sf(1, 3.841458820694124), 0.05, rel_tol=1e-9)  # the 5% point with 1 df
    assert math.isclose(chi2_sf(2, 5.991464547107979), 0.05, rel_tol=1e-9)
    assert chi2_sf(5, 0) == 1.0
