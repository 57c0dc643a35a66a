"""Time the counting engine on synthetic rounds of realistic size.

Run: .venv/bin/python bench/bench_engine.py [--repeat N]

Prints the median wall time of ``tally()`` (building the DataFrame is not timed) for rating
ballots of 50, 1,000 and 20,000 participants x 80 outcomes in four groups, ranking (top 10)
and pairwise (20 answers each) at 1,000 participants, and the 20,000 / 1,000 growth ratio
for rating (about 20 means linear in the number of ballots).
Targets on a 2-core machine: 1,000 x 80 rating < 100 ms, 20,000 x 80 rating < 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

from codesign.voting import tally
from codesign.voting.types import Method, MethodOptions

GROUPS = np.array(["patient", "carer", "clinician", "commissioner"])
N_OUTCOMES = 80


def _people(n: int) -> tuple[np.ndarray, np.ndarray]:
    names = np.array([f"P{i:06d}" for i in range(n)])
    return names, GROUPS[np.arange(n) % len(GROUPS)]


def rating_ballots(n: int, rng: np.random.Generator) -> pd.DataFrame:
    names, groups = _people(n)
    # Outcomes differ in appeal so that the ranking is not pure noise.
    appeal = rng.normal(0.0, 1.5, N_OUTCOMES)
    values = np.clip(np.rint(5 + appeal[None, :] + rng.normal(0, 2, (n, N_OUTCOMES))), 1, 9)
    unable = rng.random((n, N_OUTCOMES)) < 0.03
    return pd.DataFrame(
        {
            "participant": np.repeat(names, N_OUTCOMES),
            "group": np.repeat(groups, N_OUTCOMES),
            "outcome": np.tile([f"Outcome {j:02d}" for j in range(N_OUTCOMES)], n),
            "value": np.where(unable, np.nan, values).ravel(),
        }
    )


def ranking_ballots(n: int, rng: np.random.Generator, k: int = 10) -> pd.DataFrame:
    names, groups = _people(n)
    appeal = rng.gumbel(size=N_OUTCOMES)
    chosen = np.argsort(-(appeal[None, :] + rng.gumbel(size=(n, N_OUTCOMES))), axis=1)[:, :k]
    return pd.DataFrame(
        {
            "participant": np.repeat(names, k),
            "group": np.repeat(groups, k),
            "outcome": np.array([f"Outcome {j:02d}" for j in range(N_OUTCOMES)])[chosen.ravel()],
            "value": np.tile(np.arange(1, k + 1), n),
        }
    )


def pairwise_ballots(n: int, rng: np.random.Generator, answers: int = 20) -> pd.DataFrame:
    names, groups = _people(n)
    strength = np.exp(rng.normal(0, 1, N_OUTCOMES))
    left = rng.integers(0, N_OUTCOMES, n * answers)
    right = (left + rng.integers(1, N_OUTCOMES, n * answers)) % N_OUTCOMES
    p_left = strength[left] / (strength[left] + strength[right])
    draw = rng.random(n * answers)
    choice = np.where(draw < 0.1, "none", np.where(draw < 0.1 + 0.9 * p_left, "left", "right"))
    labels = np.array([f"Outcome {j:02d}" for j in range(N_OUTCOMES)])
    return pd.DataFrame(
        {
            "participant": np.repeat(names, answers),
            "group": np.repeat(groups, answers),
            "left": labels[left],
            "right": labels[right],
            "choice": choice,
        }
    )


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up: imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(20240601)
    repeat, big = args.repeat, max(3, args.repeat // 2)
    cases: list[tuple[str, Method, pd.DataFrame, MethodOptions, int]] = [
        ("rating", "rating", rating_ballots(50, rng), MethodOptions(), repeat),
        ("rating", "rating", rating_ballots(1_000, rng), MethodOptions(), repeat),
        ("rating", "rating", rating_ballots(20_000, rng), MethodOptions(), big),
        ("ranking top-10", "ranking", ranking_ballots(1_000, rng), MethodOptions(top_k=10), repeat),
        ("pairwise x20", "pairwise", pairwise_ballots(1_000, rng), MethodOptions(), repeat),
    ]
    outcomes = [f"Outcome {j:02d}" for j in range(N_OUTCOMES)]
    print(f"{'method':<16}{'participants':>13}{'outcomes':>10}{'rows':>11}{'median ms':>12}{'us/row':>9}")
    timings: dict[tuple[str, int], float] = {}
    for label, method, ballots, options, repeat in cases:
        n = ballots["participant"].nunique()
        seconds = median_seconds(partial(tally, ballots, method, outcomes=outcomes, options=options), repeat)
        timings[(label, n)] = seconds
        per_row = seconds / len(ballots) * 1e6
        print(f"{label:<16}{n:>13,}{N_OUTCOMES:>10}{len(ballots):>11,}{seconds * 1000:>12.1f}{per_row:>9.2f}")
    ratio = timings[("rating", 20_000)] / timings[("rating", 1_000)]
    print(
        f"\nrating growth 20,000 / 1,000 participants: {ratio:.1f}x for 20x the ballots "
        "(20x = linear; below 20x because fixed per-call costs weigh more on small rounds)"
    )


if __name__ == "__main__":
    main()
