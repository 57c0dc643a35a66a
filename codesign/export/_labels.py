"""Plain-English labels and number formats shared by every export, so all formats say the same thing.

The snapshot (docs/framework-snapshot.md) stores money in pence, shares in basis points and
measured values as decimal strings; these helpers turn them into what a contract reader sees.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from codesign.export.canonical import snapshot_sha256

NOT_STATED = "Not stated"
DEFAULT_MIN_GROUP_SIZE = 5
SHA256_RE = re.compile(r"[0-9a-f]{64}")
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# Characters XML 1.0 (DOCX, XLSX) cannot hold at all; tab, LF and CR are allowed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

UNIT_SHORT = {"percent": "%", "rate_per_1000": "per 1,000", "rate_per_100000": "per 100,000",
              "count": "count", "mean_score": "mean score", "days": "days"}
UNIT_NAMES = {"percent": "Percentage (%)", "rate_per_1000": "Rate per 1,000", "rate_per_100000": "Rate per 100,000",
              "count": "Count", "mean_score": "Mean score", "days": "Days"}
DIRECTIONS = {"higher": "Higher is better", "lower": "Lower is better"}
INDICATOR_TYPES = {"outcome": "Outcome", "process": "Process",
                   "PROM": "PROM (patient-reported outcome measure)",
                   "PREM": "PREM (patient-reported experience measure)"}
ACHIEVEMENT = {"linear": "Linear between baseline and target", "all_or_nothing": "All or nothing"}
PAYMENT_THRESHOLDS = {"targets": "The yearly targets, from the baseline (RAG bands for reporting only)",
                      "rag_bands": "The RAG bands: green pays in full, amber in part, red nothing (targets for "
                                   "reporting only)"}
MECHANISMS = {"bonus": "Bonus: paid on top of the contract value when outcomes are achieved",
              "withhold": "Withhold: a share of the contract value is withheld and earned back by achieving outcomes"}
CONSENSUS = {"in": "In", "out": "Out", "none": "No consensus"}
METHODS = {"rating": "Rating 1-9 (GRADE)", "ranking": "Ranking of the top k", "points": "Points allocation",
           "pairwise": "Pairwise comparison (Bradley-Terry)"}
COMBINES = {"weighted": "Weighted sum of the group scores",
            "rank_of_ranks": "Rank of ranks (each group's ranking converted to points and added)"}
SOURCE_KINDS = {"participant": "Proposed by a participant", "library": "From the outcome library",
                "facilitator": "Added by the facilitator"}
HISTORY_ACTIONS = {"merged_in": "Merged in", "reworded": "Reworded", "merged_into": "Merged into",
                   "withdrawn": "Withdrawn", "accepted": "Accepted", "restored": "Restored"}
DEPARTURE_ACTIONS = {"added": "Added against the computed result",
                     "removed": "Left out against the computed result"}


def check_sha256(snapshot: Mapping[str, Any], sha256: str) -> None:
    """Refuse to print a fingerprint that is not this snapshot's: the footer is a promise."""
    if not SHA256_RE.fullmatch(sha256):
        raise ValueError("sha256 must be 64 lower-case hex digits")
    # The sign-off travels beside the snapshot (export/_signoff.py) and is not part of what was frozen.
    if snapshot_sha256({k: v for k, v in snapshot.items() if k != "sign_off"}) != sha256:
        raise ValueError("sha256 does not match the snapshot")


def printable(value: str) -> str:
    """Drop control characters that cannot be stored in an XML document."""
    return _NOT_XML.sub("", value)


def text(value: object) -> str:
    """A string field for display: empty becomes 'Not stated'."""
    if value is None:
        return NOT_STATED
    s = str(value).strip()
    return s if s else NOT_STATED


def sentence(value: str) -> str:
    return value[:1].upper() + value[1:]


def label(table: Mapping[str, str], key: object) -> str:
    """The plain-English name for a coded value; an unknown code is shown as words ("split_off" -> "Split off")."""
    if key is None or key == "":
        return NOT_STATED
    return table.get(str(key)) or sentence(str(key).replace("_", " "))


def money(pence: int) -> str:
    """1234567 -> '£12,345.67'."""
    sign = "-" if pence < 0 else ""
    pounds, p = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{p:02d}"


def bp_decimal(bp: int) -> Decimal:
    """Basis points as a percentage number: 1250 -> Decimal('12.5')."""
    return (Decimal(bp) / 100).normalize() if bp else Decimal(0)


def percent_bp(bp: int) -> str:
    """Basis points as a percentage: 1250 -> '12.5%'."""
    return f"{bp_decimal(bp):f}%"


def percent_fraction(share: float | None) -> str:
    """A rule threshold stored as a fraction: 0.7 -> '70%'."""
    return "not set" if share is None else f"{share * 100:g}%"


def percent_value(pct: float | None) -> str:
    """A vote percentage stored 0-100: 81.8 -> '81.8%'."""
    return "n/a" if pct is None else f"{pct:g}%"


def number(value: float | int | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def measure(value: str, unit: str) -> str:
    """A measured value with its unit: ('4.2', 'rate_per_1000') -> '4.2 per 1,000'."""
    if not value.strip():
        return NOT_STATED
    if unit == "percent":
        return f"{value}%"
    if unit == "mean_score":
        return f"{value} (mean score)"
    if unit in UNIT_SHORT and unit != "count":
        return f"{value} {UNIT_SHORT[unit]}"
    return value


def decimal_or_none(value: str) -> Decimal | None:
    """A plain decimal string ("4.2", "-0.5") as a Decimal; anything else (text, "1e3", "NaN") is None."""
    return Decimal(value.strip()) if PLAIN_DECIMAL.fullmatch(value.strip()) else None


def when(value: str | None) -> str:
    """'2026-11-22T10:15:00Z' -> '22 November 2026 at 10:15 UTC'; unparseable text is kept."""
    if not value:
        return NOT_STATED
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"


def day(value: str | None) -> str:
    """'2027-09-30' -> '30 September 2027'."""
    if not value:
        return NOT_STATED
    try:
        d = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{d.day} {d:%B %Y}"


def yes_no(value: object) -> str:
    return "Yes" if value else "No"


def words_list(items: Sequence[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def breakdowns(items: Sequence[str]) -> str:
    return sentence(", ".join(items)) if items else "No breakdowns"


def slug(value: str, limit: int = 60) -> str:
    """'Adults with diabetes, Haringey & Islington' -> 'adults-with-diabetes-haringey-islington'."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(s) > limit:
        s = s[:limit].rsplit("-", 1)[0] if "-" in s[:limit] else s[:limit]
    return s or "framework"


def consensus(computed: Mapping[str, Any] | None) -> str:
    if not computed:
        return "n/a"
    if computed.get("consensus_suppressed"):
        return "not shown (a group too small to show went into it)"
    return label(CONSENSUS, computed.get("consensus")) if computed.get("consensus") else "n/a"


def computed_result(computed: Mapping[str, Any] | None) -> str:
    """{'rank': 6, 'score': 0.7014, 'consensus': 'none'} -> 'rank 6, score 0.7014, consensus: no consensus'."""
    if not computed:
        return "No computed result"
    score = ("not shown (a group too small to show went into it)" if computed.get("score_suppressed")
             else number(computed.get("score")))
    return f"rank {number(computed.get('rank'))}, score {score}, consensus: {consensus(computed).lower()}"


def min_group_size(snapshot: Mapping[str, Any], round_id: object) -> int:
    """The round's minimum reported group size (suppression threshold), 5 when unknown."""
    for rnd in snapshot.get("methods", {}).get("rounds", []):
        if rnd.get("id") == round_id:
            return int(rnd.get("rule", {}).get("min_group_size", DEFAULT_MIN_GROUP_SIZE))
    return DEFAULT_MIN_GROUP_SIZE


def suppressed_text(size: int) -> str:
    return f"fewer than {size} people: not reported"


def group_names(snapshot: Mapping[str, Any]) -> dict[str, str]:
    """Stakeholder group key -> name, as used in the vote summaries (for the round weights)."""
    names: dict[str, str] = {}
    for outcome in snapshot.get("outcomes", []):
        for key, group in outcome.get("votes", {}).get("groups", {}).items():
            names.setdefault(key, group.get("name") or key)
    return names


def group_keys(snapshot: Mapping[str, Any]) -> list[str]:
    """Every stakeholder group key in any outcome's vote summary, in first-seen order."""
    return list(group_names(snapshot))


def year_labels(snapshot: Mapping[str, Any]) -> list[str]:
    """Contract years from the payment terms, then any further years named in a target."""
    years = [y["label"] for y in snapshot.get("payment", {}).get("years", [])]
    for outcome in snapshot.get("outcomes", []):
        for target in outcome.get("definition", {}).get("targets", []):
            if target["year"] not in years:
                years.append(target["year"])
    return years


def targets_by_year(definition: Mapping[str, Any]) -> dict[str, str]:
    return {t["year"]: t.get("value", "") for t in definition.get("targets", [])}


def money_by_year(outcome: Mapping[str, Any]) -> dict[str, int]:
    return {m["year"]: int(m["at_stake_pence"]) for m in outcome.get("money", [])}
