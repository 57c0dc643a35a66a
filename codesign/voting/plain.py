"""A round's results in plain words, for the people who voted and the room (issue 11, item 4).

Participants and the projector are told what a patient understands: "8 of 10 patients said
critical (7 to 9)", "Agreed: keep in". Kendall's W, p-values, combined scores and "n=" stay on
the facilitator's console and in the downloads.

One count of people per group: every sentence about a group is "of N", where N is the number of
people in that group who took part in the round (``GroupInfo.n``). People who said "I cannot score
this" or left an outcome unanswered are counted in words too, so the parts of a bar and the
sentences beside it always add up to the same N. (The consensus rule itself leaves them out of
its shares, as COMET Delphi studies do; :func:`rule_words` says so.)

What may be shown is decided by :mod:`codesign.voting.disclosure`; this module only words it,
including why something is not shown. Pure code: no web, database or template imports.
"""

from __future__ import annotations

from dataclasses import dataclass

from codesign.voting.results import GroupOutcome
from codesign.voting.types import ConsensusRule, exact_share

AGREED = {"in": "Agreed: keep in", "out": "Agreed: leave out", "none": "Not agreed"}
AGREEMENT_HIDDEN = "Not shown"

# The GRADE 1-9 scale in words, in the order the bar is drawn: lowest scores first.
# (key, words after "said", scores, css class of the bar part)
RATING_BANDS: tuple[tuple[str, str, str, str], ...] = (
    ("low", "not important", "1 to 3", "app-bar--low"),
    ("mid", "important but not critical", "4 to 6", "app-bar--mid"),
    ("high", "critical", "7 to 9", "app-bar--high"),
)
NOT_SCORED_CSS = "app-bar--none"


@dataclass(frozen=True)
class PlainBand:
    """One part of a group's bar: how many people gave an answer in this band, and what it means."""

    key: str  # low, mid, high, unable (said "I cannot score this"), unanswered
    count: int
    words: str  # e.g. "said critical (7 to 9)", to follow "8 of 10 patients"
    css: str
    sentence: str = ""  # the whole line, e.g. "8 of 10 patients said critical (7 to 9)"


@dataclass(frozen=True)
class PlainCell:
    """One outcome as one group saw it, in words. ``people`` is the group's one count."""

    group: str
    people: int
    lines: tuple[str, ...]
    bands: tuple[PlainBand, ...] = ()  # rating only, bar order; widths out of ``people``
    rank: int | None = None  # the outcome's place in this group's own list
    short: str = ""  # a few words for a projector cell (ranking, points, pairwise)
    hidden: bool = False

    @property
    def people_words(self) -> str:
        return people(self.people)

    @property
    def scored_bands(self) -> tuple[PlainBand, ...]:
        """The three parts of the 1-9 scale, in bar order (1 to 3 first)."""
        return tuple(band for band in self.bands if band.key in ("low", "mid", "high"))

    @property
    def not_scored(self) -> int:
        """People in the group who gave no score: "I cannot score this" or no answer (one part of the bar)."""
        return sum(band.count for band in self.bands if band.key in ("unable", "unanswered"))

    @property
    def key_lines(self) -> tuple[PlainBand, ...]:
        """The bar's parts in reading order (critical first), each with its sentence."""
        order = {"high": 0, "mid": 1, "low": 2, "unable": 3, "unanswered": 4}
        return tuple(sorted(self.bands, key=lambda band: order[band.key]))


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def noun(group: str) -> str:
    """A group's display name inside a sentence: "Patients" -> "patients"; "NHS staff" stays."""
    if len(group) > 1 and group[0].isupper() and group[1].islower():
        return group[0].lower() + group[1:]
    return group


def agreement_words(consensus: str | None) -> str | None:
    """The consensus result as the room says it; None for methods that have no consensus."""
    return None if consensus is None else AGREED.get(consensus)


def _share(value: float) -> str:
    """0.7 -> "70 in every 100"."""
    share = exact_share(value) * 100
    return f"{share.numerator if share.denominator == 1 else f'{float(share):g}'} in every 100"


def rule_words(rule: ConsensusRule, veto_group: str | None = None) -> tuple[str, ...]:
    """What "Agreed: keep in" and "Agreed: leave out" mean under this round's rule."""
    lines = [
        f"Agreed: keep in means at least {_share(rule.in_min_pct_7_9)} people in every group said critical "
        f"(7 to 9), and fewer than {_share(rule.in_max_pct_1_3)} said not important (1 to 3).",
        f"Agreed: leave out means at least {_share(rule.out_min_pct_1_3)} people in every group said not "
        f"important (1 to 3), and fewer than {_share(rule.out_max_pct_7_9)} said critical (7 to 9).",
    ]
    if rule.patient_veto_in and veto_group:
        lines.append(f"An outcome is also kept in when {noun(veto_group)} alone agreed to keep it in.")
    lines.append("People who said “I cannot score this” are left out when working this out.")
    return tuple(lines)


def _rating(group: str, total: int, go: GroupOutcome) -> PlainCell:
    counts = list(go.distribution or ())
    counts += [0] * (10 - len(counts))
    scored = sum(counts[:9])
    unable = counts[9]
    unanswered = max(total - scored - unable, 0)
    who = noun(group)
    if scored == 0 and unable == 0:
        return PlainCell(group, total, (f"None of the {people(total)} in this group answered this.",), (), go.rank)
    parts = [(key, sum(counts[lo:lo + 3]), f"said {words} ({scores})", css)
             for (key, words, scores, css), lo in zip(RATING_BANDS, (0, 3, 6), strict=True)]
    if unable:
        parts.append(("unable", unable, "said “I cannot score this”", NOT_SCORED_CSS))
    if unanswered:
        parts.append(("unanswered", unanswered, "did not answer", NOT_SCORED_CSS))
    # Sentences start from "critical", what people most want to know, and name the group once:
    # "8 of 10 patients said critical (7 to 9)", then "2 of 10 said important but not critical (4 to 6)".
    bands = tuple(PlainBand(key, count, words, css, f"{count} of {total} {who + ' ' if key == 'high' else ''}{words}")
                  for key, count, words, css in parts)
    cell = PlainCell(group, total, (), bands, go.rank)
    return PlainCell(group, total, tuple(band.sentence for band in cell.key_lines), bands, go.rank)


def _ranking(group: str, total: int, go: GroupOutcome) -> PlainCell:
    who = noun(group)
    lines = [f"{group} put it {ordinal(go.rank)}.",
             f"{go.times_ranked or 0} of {total} {who} put it on their list"
             f"{'' if not go.first_places else f', and {go.first_places} of {total} put it first'}."]
    return PlainCell(group, total, tuple(lines), rank=go.rank, short=ordinal(go.rank))


def _points(group: str, total: int, go: GroupOutcome) -> PlainCell:
    who = noun(group)
    dots = round((go.mean_allocation or 0) * go.n)
    lines = [f"{group} put it {ordinal(go.rank)}.",
             f"{go.times_given or 0} of {total} {who} gave it dots: {dots} {'dot' if dots == 1 else 'dots'} in all."]
    return PlainCell(group, total, tuple(lines), rank=go.rank, short=ordinal(go.rank))


def _pairwise(group: str, total: int, go: GroupOutcome) -> PlainCell:
    wins, compared = go.wins or 0, (go.wins or 0) + (go.losses or 0)
    lines = [f"{group} put it {ordinal(go.rank)}.",
             f"When {noun(group)} compared it with another outcome, they chose it {wins} of {compared} "
             f"{'time' if compared == 1 else 'times'}."]
    return PlainCell(group, total, tuple(lines), rank=go.rank, short=ordinal(go.rank))


_METHODS = {"rating": _rating, "ranking": _ranking, "points": _points, "pairwise": _pairwise}


def plain_cell(method: str, group: str, total: int, go: GroupOutcome | None, *, hidden: bool = False,
               min_size: int = 1) -> PlainCell:
    """One outcome in one group, in words. ``total`` is the group's count of people in the round;
    ``hidden`` (from voting.disclosure) gives no figure at all, only the reason."""
    if go is None:
        return PlainCell(group, total, (f"None of the {people(total)} in this group answered this.",))
    if hidden:
        return PlainCell(group, total, (hidden_cell_words(method, group, min_size),), hidden=True)
    return _METHODS[method](group, total, go)


def hidden_cell_words(method: str, group: str, min_size: int) -> str:
    """Why one group's answers about one outcome are not shown (a thin cell)."""
    did = "scored this" if method == "rating" else "were asked about this"
    return (f"Not shown: fewer than {min_size} {noun(group)} {did}. With so few, "
            "you could work out how one person answered.")


def hidden_groups_words(groups: list[str], min_size: int) -> str:
    """Why whole groups are not shown (fewer people in the round than the minimum)."""
    names = [noun(g) for g in groups]
    listed = _listed(names)
    each = "There were" if len(names) == 1 else "Each group had"
    return (f"We do not show how {listed} answered. {each} fewer than {people(min_size)}, and with so few "
            "you could work out how one person answered. Their answers still count in the order.")


AGREEMENT_HIDDEN_WHY = ("Where it says “not shown”, a group too small to show went into whether people "
                        "agreed, so showing it would give away how they answered. The order still counts everyone.")


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def agreed_by_words(groups: list[str]) -> str:
    """An outcome that not every group agreed to keep in, but some did (the rule's
    ``important_to_one_group`` option): "Patients agreed to keep it in, but not every group did."."""
    if not groups:
        return ""
    first = _listed([groups[0]] + [noun(g) for g in groups[1:]])
    return f"{first} agreed to keep it in, but not every group did."


def places_words(ranks: list[tuple[str, int]]) -> str:
    """Where groups disagree: "patients put it 1st, clinicians put it 8th"."""
    return ", ".join(f"{noun(name)} put it {ordinal(rank)}" for name, rank in ranks)
