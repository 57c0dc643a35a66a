"""What a ballot import changed, in the words the facilitator reads (the flash after an import)
and the audit log keeps: how many ballots were new to the round and how many replaced a voter's
earlier ones, and which voters the file put in another group than before. Pure.

A voter's group is what the latest file says (a survey taken later knows better, by design), so
a voter imported as a patient and now as a carer is moved: their participant record (people
pages, attendance by group) and their ballot in this round. Their ballots in earlier rounds keep
the group they were counted in then, so results already seen do not change. The move is said,
never silent: a wrong group in a file is then seen and can be fixed by importing again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MOVED_SHOWN = 3  # voters named in the message; the audit record names up to MOVED_KEPT
MOVED_KEPT = 100


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


@dataclass(frozen=True)
class Moved:
    """A voter the file puts in another group than the session had them in."""
    reference: str
    before: str  # group names, as pages show them
    after: str


@dataclass(frozen=True)
class ImportReport:
    source: str
    answers: int  # the file's rows
    new: int  # voters with no ballot in this round before
    replaced: int  # voters whose earlier ballot in this round the file replaced
    moved: list[Moved] = field(default_factory=list)

    @property
    def voters(self) -> int:
        return self.new + self.replaced

    def describe(self, into: str = "") -> str:
        """E.g. "Imported 100 ballots from survey.csv (2,000 answers): 40 new, 60 replacing earlier
        ones from this round. 1 voter is now in another group, as this file says: S-1 Patients to
        Carers." ``into`` ("round 2") is said before the file's name (the audit log)."""
        said = f"Imported {plural(self.voters, 'ballot')} {f'into {into} ' if into else ''}from {self.source} " \
               f"({plural(self.answers, 'answer')})"
        one = self.voters == 1
        if not self.replaced:
            said += ", a new one." if one else ", all new."
        elif not self.new:
            said += f", replacing {'an earlier one' if one else 'earlier ones'} from this round."
        else:
            said += f": {self.new:,} new, {self.replaced:,} replacing earlier ones from this round."
        if self.moved:
            count = len(self.moved)
            names = ", ".join(f"{m.reference} {m.before} to {m.after}" for m in self.moved[:MOVED_SHOWN])
            more = f", and {count - MOVED_SHOWN:,} more" if count > MOVED_SHOWN else ""
            said += (f" {plural(count, 'voter')} {'is' if count == 1 else 'are'} now in another group, "
                     f"as this file says: {names}{more}.")
        return said

    def details(self) -> dict[str, object]:
        """For the audit record: the same counts, and the moves (the first MOVED_KEPT of them)."""
        return {"source": self.source, "voters": self.voters, "rows": self.answers, "new": self.new,
                "replaced": self.replaced, "moved": len(self.moved),
                "moves": [{"participant": m.reference, "from": m.before, "to": m.after}
                          for m in self.moved[:MOVED_KEPT]]}
