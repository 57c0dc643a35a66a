"""Framework snapshots for the export tests and bench/bench_export.py.

`example()` is tests/export/data/snapshot_example.json (docs/framework-snapshot.md);
`large(n)` replicates its outcomes into an n-outcome framework that is still consistent:
ranks 1..n, distinct ids and statements, weights adding to 10000 and money shared by the largest
remainder so each year's outcome amounts add up to the year's total.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from codesign.export.canonical import snapshot_sha256

DATA = Path(__file__).resolve().parent / "data"


def example() -> dict[str, Any]:
    with (DATA / "snapshot_example.json").open(encoding="utf-8") as f:
        snapshot: dict[str, Any] = json.load(f)
    return snapshot


def _largest_remainder(total: int, weights: list[int]) -> list[int]:
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def large(n: int = 40) -> dict[str, Any]:
    snapshot = example()
    base = snapshot["outcomes"]
    outcomes = []
    for i in range(n):
        o = copy.deepcopy(base[i % len(base)])
        copy_no = i // len(base)
        o["rank"] = i + 1
        o["outcome_id"] = o["outcome_id"] + 1000 * copy_no
        o["definition"]["indicator_code"] = f"DIAB-{i + 1:02d}"  # unique within the version, as the app makes it
        if copy_no:
            o["statement"] = f"{o['statement']} (variant {copy_no + 1})"
        outcomes.append(o)
    paid = [o for o in outcomes if not o["measurability_gap"]]
    for o, bp in zip(paid, _largest_remainder(10000, [1] * len(paid)), strict=True):
        o["payment_weight_bp"] = bp
    for o in outcomes:
        if o["measurability_gap"]:
            o["payment_weight_bp"] = 0
    for y, year in enumerate(snapshot["payment"]["years"]):
        amounts = _largest_remainder(year["at_stake_pence"], [o["payment_weight_bp"] for o in outcomes])
        for o, pence in zip(outcomes, amounts, strict=True):
            o["money"][y]["at_stake_pence"] = pence
    snapshot["outcomes"] = outcomes
    snapshot["summary"] = {"outcome_count": n,
                           "measurability_gaps": sum(1 for o in outcomes if o["measurability_gap"]),
                           "weights_total_bp": sum(o["payment_weight_bp"] for o in outcomes)}
    return snapshot


def with_hash(snapshot: dict[str, Any]) -> tuple[dict[str, Any], str]:
    return snapshot, snapshot_sha256(snapshot)
