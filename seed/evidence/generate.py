"""Makes demo_indicators.csv and demo_peers.csv: ILLUSTRATIVE values, not real statistics.

Run from the project folder: python seed/evidence/generate.py. Fixed random seed, so the files
are the same each time. Area codes are made up (DEMO-...), so they can never be mistaken for an
ONS code.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from codesign.evidence import byar_interval, wilson_interval
from codesign.evidence.intervals import Z998

HERE = Path(__file__).parent
NOTE = "Illustrative value made up for the codesign demo; not a real statistic"
PERIODS = ("2020/21", "2021/22", "2022/23", "2023/24", "2024/25")
AREA = ("DEMO-HI", "Haringey and Islington (illustrative demo area)")
PEERS = tuple((f"DEMO-P{i:02}", f"Illustrative peer area {i}") for i in range(1, 11))
ENGLAND = ("E92000001", "England")
# key, name, multiplier, England level, demo area level, peer spread, yearly drift
INDICATORS = (
    ("nda-hba1c-58", "People with diabetes whose HbA1c is 58 mmol/mol or below", 100, 64.0, 59.0, 5.0, 0.4),
    ("desp-screening-uptake", "People with diabetes who attended diabetic eye screening", 100, 82.0, 76.0, 4.0, 0.3),
    ("gpps-care-planning", "People with a long-term condition who say they have agreed a care plan", 100, 12.0,
     10.5, 2.5, 0.2),
    ("hes-amputations", "Lower-limb amputations in people with diabetes", 1000, 2.9, 3.4, 0.6, -0.03),
    ("severe-hypo-admissions-callouts", "Emergency admissions and ambulance call-outs for severe hypoglycaemia",
     1000, 9.5, 11.0, 2.0, -0.1),
    ("nda-cardiovascular-events", "Heart attack, stroke and heart failure admissions in people with diabetes", 1000,
     24.0, 26.5, 3.0, -0.2),
)


def figures(rng: random.Random, level: float, multiplier: int, denominator: int) -> list[object]:
    expected = level / multiplier * denominator
    count = max(0, round(rng.gauss(expected, expected ** 0.5 if multiplier != 100 else
                                   (expected * (1 - level / 100)) ** 0.5)))
    value = count / denominator * multiplier
    if multiplier == 100:
        low95, high95 = (x * 100 for x in wilson_interval(count, denominator))
        low998, high998 = (x * 100 for x in wilson_interval(count, denominator, Z998))
    else:
        low95, high95 = (x / denominator * multiplier for x in byar_interval(count))
        low998, high998 = (x / denominator * multiplier for x in byar_interval(count, Z998))
    return [f"{value:.3f}", f"{low95:.3f}", f"{high95:.3f}", f"{low998:.3f}", f"{high998:.3f}", count, denominator]


def main() -> None:
    rng = random.Random(2026)
    offsets = {code: rng.uniform(-1, 1) for code, _ in PEERS}
    sizes = {code: rng.randint(12_000, 60_000) for code, _ in PEERS} | {AREA[0]: 41_000, ENGLAND[0]: 3_600_000}
    header = ["Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name", "Area Type",
              "Sex", "Age", "Category Type", "Category", "Time period", "Value", "Lower CI 95.0 limit",
              "Upper CI 95.0 limit", "Lower CI 99.8 limit", "Upper CI 99.8 limit", "Count", "Denominator",
              "Value note"]
    with (HERE / "demo_indicators.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for key, name, multiplier, england, local, spread, drift in INDICATORS:
            for step, period in enumerate(PERIODS):
                areas = [(ENGLAND, england), (AREA, local)] + [
                    (peer, england + offsets[peer[0]] * spread) for peer in PEERS]
                for (code, area_name), level in areas:
                    size = sizes[code] + step * sizes[code] // 50
                    parent = ("", "") if code == ENGLAND[0] else ENGLAND
                    kind = "England" if code == ENGLAND[0] else "Illustrative area"
                    writer.writerow([key, name + " (illustrative)", *parent, code, area_name, kind, "Persons",
                                     "18+ yrs", "", "", period,
                                     *figures(rng, level + drift * step, multiplier, size), NOTE])
    with (HERE / "demo_peers.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["area_code", "peer_code"])
        writer.writerows([AREA[0], code] for code, _ in PEERS)


if __name__ == "__main__":
    main()
