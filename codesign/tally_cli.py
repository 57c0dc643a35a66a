"""``codesign tally``: count a ballot CSV file and print the results as JSON or CSV.

    codesign tally BALLOTS.csv --method rating|ranking|points|pairwise
        [--rule FILE.json | --rule PRESET] [--weights group=w,...] [--top-k K]
        [--budget N] [--max-per-outcome N] [--combine weighted|rank_of_ranks]
        [--groups key=Name,...] [--format json|csv]

Exit status 0 on success; 2 with a one-line message on stderr (naming the file, line and
column where there is one) for any bad input. The output schema is docs/results-schema.md; a
line on stderr says which groups were counted, with how many people each.

The same file counts the same way here as in the app: groups are read by the app's own function
(voting/groups.py: "Patients" is the patient group; a group the study does not have is refused
at its line and column), and the smallest group shown is a new round's (3), unless the rule
given says otherwise.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from codesign.export.cells import neutralise
from codesign.validation import parse_decimal
from codesign.voting import (
    RULE_PRESETS,
    BallotFileError,
    ConsensusRule,
    MethodOptions,
    parse_ballots_csv,
    tally,
)
from codesign.voting.groups import DEFAULT_GROUPS
from codesign.voting.types import COMBINES, METHODS, NEW_ROUND_MIN_GROUP_SIZE

BAD_INPUT = 2


class _InputError(Exception):
    """Bad input from the command line or a file; the message is shown as is."""


def add_tally_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``codesign tally`` arguments to ``parser`` (a subcommand parser)."""
    parser.add_argument("ballots", metavar="BALLOTS.csv", help="ballot file (UTF-8 CSV)")
    parser.add_argument("--method", required=True, choices=METHODS, help="voting method")
    parser.add_argument(
        "--rule",
        metavar="FILE.json",
        help="consensus rule as JSON (ConsensusRule fields), or a preset: "
        + ", ".join(sorted(RULE_PRESETS))
        + " (default: default_70_15)",
    )
    parser.add_argument(
        "--weights",
        metavar="GROUP=W,...",
        help="group weights, e.g. patient=2,carer=1,clinician=1,commissioner=1 (default: every group equal)",
    )
    parser.add_argument("--top-k", type=int, help="ranking: how many positions (default: all)")
    parser.add_argument("--budget", type=int, default=10, help="points: budget per participant")
    parser.add_argument("--max-per-outcome", type=int, help="points: cap per outcome")
    parser.add_argument("--combine", choices=COMBINES, default="weighted")
    parser.add_argument(
        "--groups",
        metavar="KEY=NAME,...",
        help="the study's stakeholder groups, all of them, if not the usual four (default: "
        + ",".join(f"{k}={n}" for k, n in DEFAULT_GROUPS.items())
        + "); the file names each by key or name, case and spacing ignored",
    )
    parser.add_argument("--format", choices=("json", "csv"), default="json")


def _read_ballots(path: Path) -> str | bytes:
    """The ballot file: as it is when all ASCII (most are: the parser then reads the bytes
    themselves), else decoded as _read_text does."""
    data = _read_bytes(path)
    return data if data.isascii() else _decoded(path, data)


def _read_text(path: Path) -> str:
    return _decoded(path, _read_bytes(path))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise _InputError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise _InputError(f"{path}: cannot read: {exc.strerror}") from None


def _decoded(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _InputError(f"{path}, line {line}: not UTF-8 text (save it as 'CSV UTF-8')") from None


def _load_rule(spec: str | None) -> ConsensusRule:
    """The rule; its smallest group shown is a new round's in the app unless a file gives its own
    (ConsensusRule's default of 5 is how the app reads old stored rules, not what it starts with)."""
    if spec is None:
        spec = "default_70_15"
    path = Path(spec)
    if spec in RULE_PRESETS and not path.exists():
        return dataclasses.replace(RULE_PRESETS[spec], min_group_size=NEW_ROUND_MIN_GROUP_SIZE)
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _InputError(f"{path}, line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
    try:
        if isinstance(data, dict):
            data = {"min_group_size": NEW_ROUND_MIN_GROUP_SIZE, **data}
        return ConsensusRule.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise _InputError(f"{path}: {exc}") from None


def parse_weights(spec: str | None) -> dict[str, float] | None:
    """``patient=2,carer=1`` -> {"patient": 2.0, "carer": 1.0}; None when not given."""
    if spec is None:
        return None
    weights: dict[str, float] = {}
    for item in spec.split(","):
        group, equals, number = (part.strip() for part in item.partition("="))
        if not equals or not group:
            raise _InputError(f"--weights: {item.strip()!r} is not group=weight")
        parsed = parse_decimal(number)  # float() would take "nan", "1e999" and "٣"
        if parsed is None:
            raise _InputError(f"--weights: {number!r} for {group!r} is not a number")
        weight = float(parsed)
        if not math.isfinite(weight) or weight < 0:
            raise _InputError(f"--weights: the weight for {group!r} must be 0 or more")
        if group in weights:
            raise _InputError(f"--weights: {group!r} is given twice")
        weights[group] = weight
    return weights


def parse_groups(spec: str | None) -> dict[str, str]:
    """``patient=Patients,carer`` -> {"patient": "Patients", "carer": "carer"}; the usual four
    (DEFAULT_GROUPS) when not given."""
    if spec is None:
        return dict(DEFAULT_GROUPS)
    groups: dict[str, str] = {}
    for item in spec.split(","):
        key, _, name = (part.strip() for part in item.partition("="))
        if not key:
            raise _InputError(f"--groups: {item.strip()!r} is not key=name")
        if key in groups:
            raise _InputError(f"--groups: {key!r} is given twice")
        groups[key] = name or key
    return groups


def _counted(ballots: pd.DataFrame) -> str:
    """Which groups were counted and how many people in each, in the order first met. On the
    categoricals' codes: a drop_duplicates of 1.6 million rows took half a second."""
    people = pd.Categorical(ballots["participant"]).codes
    groups = pd.Categorical(ballots["group"])
    group_of = np.zeros(int(people.max()) + 1 if len(people) else 0, dtype=np.int64)
    group_of[people] = groups.codes  # one group per participant (the parser checks it)
    sizes = np.bincount(group_of, minlength=len(groups.categories))
    first = sorted(range(len(groups.categories)), key=lambda g: int(np.argmax(groups.codes == g)))
    return "counted " + ", ".join(f"{groups.categories[g]} ({sizes[g]} {'person' if sizes[g] == 1 else 'people'})"
                                  for g in first if sizes[g])


def run_tally(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run ``codesign tally`` with parsed ``args``; returns the exit status."""
    try:
        try:
            options = MethodOptions(top_k=args.top_k, budget=args.budget, max_per_outcome=args.max_per_outcome)
        except ValueError as exc:
            raise _InputError(f"--{str(exc).replace('_', '-')}") from None
        rule = _load_rule(args.rule)
        weights = parse_weights(args.weights)
        groups = parse_groups(getattr(args, "groups", None))
        path = Path(args.ballots)
        ballots = parse_ballots_csv(_read_ballots(path), args.method, source=str(path), options=options,
                                    groups=groups)
        try:
            results = tally(
                ballots,
                args.method,
                weights=weights,
                combine=args.combine,
                rule=rule,
                options=options,
            )
        except ValueError as exc:
            raise _InputError(f"{path}: {exc}") from None
    except (_InputError, BallotFileError) as exc:
        # A group tally does not know may be the study's own: say how to name them.
        hint = (" (a study's own groups are named with --groups key=Name,...)"
                if isinstance(exc, BallotFileError) and exc.column_name == "group" and "not a stakeholder group" in
                exc.message and not getattr(args, "groups", None) else "")
        print(f"codesign tally: {exc}{hint}", file=stderr)
        return BAD_INPUT
    print(f"codesign tally: {path}: {_counted(ballots)}", file=stderr)
    if args.format == "json":
        # dumps, then one write: json.dump writes each of tens of thousands of pieces separately
        stdout.write(json.dumps(results.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False))
        stdout.write("\n")
    else:
        rows = results.to_csv_rows()
        if rows:
            # Outcome and group names come from the file: a spreadsheet must not run them as formulas,
            # in the header (group.<name>.score) or in the cells, as in every other CSV export.
            names = list(rows[0])
            writer = csv.writer(stdout, lineterminator="\n")
            writer.writerow([neutralise(name) for name in names])
            writer.writerows([neutralise(row.get(name)) for name in names] for row in rows)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m codesign.tally_cli`` (the app's ``codesign tally`` calls run_tally)."""
    parser = argparse.ArgumentParser(prog="codesign tally", description=__doc__.splitlines()[0])
    add_tally_arguments(parser)
    return run_tally(parser.parse_args(argv), sys.stdout, sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
