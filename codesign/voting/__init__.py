"""Pure counting for codesign rounds: voting methods, consensus and agreement.

This package imports no web, database or template code (a test walks it to make sure), so
the same counting runs in the web app, the exports and ``codesign tally``.

Methods: rating 1-9 (GRADE, COMET Delphi), ranking top-k (Borda, James Lind Alliance),
points allocation (dot voting) and pairwise comparison (Bradley-Terry, All Our Ideas).
See each module's docstring for the definition and its source, and docs/results-schema.md
for the output.
"""

from codesign.voting.agreement import kendall_w
from codesign.voting.csvio import BallotFileError, ballots_to_csv, parse_ballots_csv
from codesign.voting.engine import tally
from codesign.voting.pairwise import (
    BT_PRIOR,
    bradley_terry_scores,
    fit_bradley_terry,
    next_pair,
)
from codesign.voting.results import (
    Agreement,
    Disagreement,
    GroupInfo,
    GroupOutcome,
    KendallResult,
    OutcomeResult,
    Results,
)
from codesign.voting.schulze import preference_counts, schulze_ranks
from codesign.voting.tables import TableCombined, combine_tables
from codesign.voting.types import (
    DEFAULT_RULE,
    RULE_PRESETS,
    STRICT_80_10,
    Combine,
    Consensus,
    ConsensusRule,
    Method,
    MethodOptions,
)

__all__ = [
    "BT_PRIOR",
    "DEFAULT_RULE",
    "RULE_PRESETS",
    "STRICT_80_10",
    "Agreement",
    "BallotFileError",
    "Combine",
    "Consensus",
    "ConsensusRule",
    "Disagreement",
    "GroupInfo",
    "GroupOutcome",
    "KendallResult",
    "Method",
    "MethodOptions",
    "OutcomeResult",
    "Results",
    "TableCombined",
    "ballots_to_csv",
    "bradley_terry_scores",
    "combine_tables",
    "fit_bradley_terry",
    "kendall_w",
    "next_pair",
    "parse_ballots_csv",
    "preference_counts",
    "schulze_ranks",
    "tally",
]
