"""A round's counted ballots in `codesign tally`'s input format, so a study team can recount it
themselves: ``participant,group,outcome,value`` (pairwise: ``participant,group,left,right,choice``).

Pure: the ballots frame the count itself used in (queries.tally_files), CSV out. Each voter is a
pseudonym ("P-" or "T-" and 12 hex digits of an HMAC under the app's secret key, as in the
analysts' answers.csv, export/ballots_csv.py): per round for a round's file (the same id as in
that round's answers.csv), per pooled round for a pooled file, where one person counted once
appears once whichever sessions they voted in, and cannot be followed into another round's file.
No names, emails, join numbers or imported voters' references. Groups are written by key, and
outcomes by their wording, as the app counts them (the alphabetical tie-break compares wording):
a round whose outcomes do not all have different wording names them by number instead. Every
cell is neutralised against spreadsheet formulas. `tally_command` gives the options that make
`codesign tally` count the file with the round's own settings (none for a default round).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

import pandas as pd

from codesign.export.ballots_csv import pseudonym
from codesign.export.cells import neutralise
from codesign.voting.types import NEW_ROUND_MIN_GROUP_SIZE, RULE_PRESETS, ConsensusRule, MethodOptions

if TYPE_CHECKING:
    from codesign.queries.rounds import RoundResults

SCORED = ("participant", "group", "outcome", "value")
PAIRWISE = ("participant", "group", "left", "right", "choice")


def round_voter(key: bytes, round_id: int) -> Callable[[str], str]:
    """A round's pseudonym of a voter key: the one its answers.csv gives."""
    return lambda voter: pseudonym(key, round_id, voter)


def pooled_voter(key: bytes, panel_round_id: int) -> Callable[[str], str]:
    """A pooled round's pseudonym of a person (``pl:<panellist>`` or a ballot's voter key): one per
    person in the pool, never equal to any round's (the message says it is a pool)."""
    def name(person: str) -> str:
        digest = hmac.new(key, f"pool|{panel_round_id}|{person}".encode(), hashlib.sha256).hexdigest()
        return ("T-" if person.startswith("t:") else "P-") + digest[:12]
    return name


def outcome_names(labels: Mapping[str, str]) -> dict[str, str]:
    """Outcome id -> what the file calls it: its wording, or its number for every outcome when two
    share a wording (the file must name each outcome once, and tally compares cells exactly)."""
    wording = {k: " ".join(v.split()) for k, v in labels.items()}
    if len(set(wording.values())) == len(wording) and all(wording.values()):
        return wording
    return {k: k for k in labels}


def write_tally_ballots(frame: pd.DataFrame, method: str, *, outcomes: Mapping[str, str],
                        voter: Callable[[str], str], stream: TextIO) -> None:
    """Write `frame` (the engine's ballots: participant, group, outcome and value, or left, right
    and choice) to `stream`, sorted by pseudonym then outcome, so it keeps no order people joined in."""
    columns = PAIRWISE if method == "pairwise" else SCORED
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    if not len(frame):
        return
    names = {p: voter(str(p)) for p in frame["participant"].astype(str).unique()}
    people = [names[str(p)] for p in frame["participant"].astype(str)]
    groups = frame["group"].astype(str).tolist()
    if method == "pairwise":
        rest: list[list[Any]] = [[outcomes.get(str(a), str(a)), outcomes.get(str(b), str(b)), str(c)]
                                 for a, b, c in zip(frame["left"], frame["right"], frame["choice"], strict=True)]
    else:
        rest = [[outcomes.get(str(o), str(o)), "U" if pd.isna(v) else int(v)]
                for o, v in zip(frame["outcome"], frame["value"], strict=True)]
    rows = sorted(([p, g, *r] for p, g, r in zip(people, groups, rest, strict=True)),
                  key=lambda row: [str(cell) for cell in row[:4]])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)


def tally_command(filename: str, method: str, *, n_outcomes: int, options: MethodOptions, rule: ConsensusRule,
                  weights: Mapping[str, float], combine: str) -> list[str]:
    """`codesign tally` with the options that count `filename` as the round was counted: only those
    where the round differs from tally's defaults. A rule that is no preset is named ``RULE.json``
    (the ``rule`` of the round's results JSON, saved as a file of its own)."""
    command = ["codesign", "tally", filename, "--method", method]
    if method == "ranking":  # always: tally's own default is every outcome in the file, and one nobody ranked is not
        command += ["--top-k", str(options.ranking_depth(n_outcomes))]
    if method == "points":
        if options.budget != MethodOptions().budget:
            command += ["--budget", str(options.budget)]
        if options.max_per_outcome is not None:
            command += ["--max-per-outcome", str(options.max_per_outcome)]
    presets = {name: ConsensusRule(**{**preset.to_dict(), "min_group_size": NEW_ROUND_MIN_GROUP_SIZE})
               for name, preset in RULE_PRESETS.items()}
    named = next((name for name, preset in presets.items() if preset == rule), None)
    if named is None:
        command += ["--rule", "RULE.json"]
    elif named != "default_70_15":
        command += ["--rule", named]
    if len({float(w) for w in weights.values()}) > 1:
        command += ["--weights", ",".join(f"{g}={w:g}" for g, w in weights.items())]
    if combine != "weighted":
        command += ["--combine", combine]
    return command


def recount_command(results: RoundResults, filename: str) -> str:
    """The command line that recounts `filename` with these results' settings, as one would type it."""
    return " ".join(tally_command(filename, results.round.method, n_outcomes=len(results.outcomes),
                                  options=results.options, rule=results.rule, weights=results.weights,
                                  combine=results.round.combine))
