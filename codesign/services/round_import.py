"""Import a round's ballots from CSV (paper ballots, an online survey run elsewhere).

All or nothing: the file is checked whole by the same parser as `codesign tally`, and any
problem refuses it with the line and column at fault; nothing is saved. Outcomes are named by
their id or their exact wording; groups by their key (patient) or name (Patients), case and
spacing ignored, read by the same function as `codesign tally` (voting/groups.py). Each voter in
the file becomes an imported participant of the session; importing the same voter again replaces
their answers in the round, and moves them to the group the file gives (import_report.py says what
an import changed).

Two steps, as the web app takes them: `check_import` reads and checks the file, writing nothing
(on SQLite, every vote in the room waits while anyone writes), then `save_import` saves it in one
transaction, refusing if the round closed or changed in between. `import_ballots` does both.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice, repeat

import pandas as pd
from sqlalchemy import Connection, Table, bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from codesign.errors import Conflict, ValidationFailed
from codesign.models import (
    Ballot,
    BallotAnswer,
    PairwiseAnswer,
    Participant,
    Round,
    RoundStatus,
    SessionStatus,
    StakeholderGroup,
    User,
    WorkshopSession,
    utcnow,
)
from codesign.models.core import first_free_number, lock_people
from codesign.queries.rounds import get_round, round_outcomes
from codesign.services import audit
from codesign.services.ballot_sql import lock_round, refuse_unless_open
from codesign.services.import_report import ImportReport, Moved, plural
from codesign.voting import BallotFileError, MethodOptions, parse_ballots_csv
from codesign.voting.order import parse_options

MAX_SHOWN = 10
MAX_REF = 100  # Participant.external_ref


def _data_lines(text: str) -> tuple[list[str], list[int]]:
    """The header (lower case) and the physical line where each data record starts, skipping
    blank records as the parser does, so row i of the parsed frame is on line lines[i]."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header: list[str] | None = None
    lines: list[int] = []
    end = 0
    for cells in reader:
        start, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in cells]
        else:
            lines.append(start)
    return header or [], lines


def _refuse(text: str, source: str, row: int, column: str, message: str) -> ValidationFailed:
    header, lines = _data_lines(text)
    line = lines[row] if row < len(lines) else 1
    number = header.index(column) + 1 if column in header else 1
    return ValidationFailed({"ballots": f"The file was not imported. {source}, line {line}, column {number} "
                                        f"({column}): {message}"})


def _check_frame(frame: pd.DataFrame, method: str, by_name: dict[str, int], text: str, source: str) -> None:
    """What the generic parser cannot know: names that are too long to keep, and the same outcome
    (or pair) answered twice under its number and its wording."""
    too_long = frame["participant"].astype(str).str.len() > MAX_REF
    if too_long.any():
        row = int(too_long.to_numpy().argmax())
        raise _refuse(text, source, row, "participant", f"a participant's name or number can be at most {MAX_REF} "
                      "characters")
    if method == "pairwise":
        keys = [f"{min(by_name[str(a)], by_name[str(b)])}-{max(by_name[str(a)], by_name[str(b)])}"
                for a, b in zip(frame["left"], frame["right"], strict=True)]
        what, column = "the same pair", "right"
    else:
        keys = [str(by_name[str(o)]) for o in frame["outcome"]]
        what, column = "the same outcome", "outcome"
    repeated = pd.DataFrame({"participant": frame["participant"], "key": keys}).duplicated()
    if repeated.any():
        row = int(repeated.to_numpy().argmax())
        who = frame["participant"].iloc[row]
        raise _refuse(text, source, row, column, f"participant {who!r} answers {what} twice (outcomes can be named "
                      "by number or by wording, but only once each)")


@dataclass(frozen=True)
class _Terms:
    """What a file is checked against: the round, its outcomes by number and wording, and the
    population group's stakeholder groups by key and name."""
    found: Round
    population_group_id: int
    by_name: dict[str, int]
    groups: dict[str, int]  # key: id
    names: dict[str, str]  # key: name, in the order pages list them (the parser reads either)

    @property
    def basis(self) -> tuple[object, ...]:
        return (self.found.method, self.found.options_json, sorted(self.by_name.items()), sorted(self.groups.items()),
                sorted(self.names.items()))


@dataclass(frozen=True)
class CheckedImport:
    """A ballot file read and checked against the round as it was then (`basis`), ready to save."""
    source: str
    frame: pd.DataFrame
    basis: tuple[object, ...]


def _terms(db: Session, session_id: int, round_id: int) -> _Terms:
    found = get_round(db, session_id, round_id)
    if found.status == RoundStatus.draft:
        raise Conflict("Open the round before importing ballots, so its method and rule are locked first.")
    if found.status == RoundStatus.closed:
        # Once closed, a round's results are final: importing now would change what the room saw.
        raise Conflict("This round has closed, so its results are final. Import ballots while a round is open, "
                       "or reset the round (with a reason) to run it again.")
    if found.table_based:
        raise Conflict("Table rounds are voted by tables in the room; they cannot be imported.")
    session = db.get(WorkshopSession, session_id)
    assert session is not None and found.id is not None
    by_name: dict[str, int] = {}
    for o in round_outcomes(db, round_id):
        assert o.id is not None
        by_name[str(o.id)] = o.id
        by_name[o.statement] = o.id
    found_groups = db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == session.population_group_id)
        .order_by(col(StakeholderGroup.position), col(StakeholderGroup.id))).all()
    return _Terms(found, session.population_group_id, by_name, {g.key: int(g.id or 0) for g in found_groups},
                  {g.key: g.name for g in found_groups})


def check_import(db: Session, session_id: int, round_id: int, text: str, source: str) -> CheckedImport:
    """Read and check a ballot file against the round, writing nothing: this is the slow part of an
    import, so it runs before the write (on SQLite every vote in the room waits on a writer)."""
    terms = _terms(db, session_id, round_id)
    if not text.strip():
        raise ValidationFailed({"ballots": "Choose a CSV file of ballots to import"})
    options = parse_options(terms.found.options_json)[0]
    # Each outcome is listed twice (number and wording), so the parser must be told k itself:
    # "rank them all" means all of the round's outcomes, not twice as many positions.
    outcomes = len(set(terms.by_name.values()))
    options = MethodOptions(top_k=options.ranking_depth(outcomes), budget=options.budget,
                            max_per_outcome=options.max_per_outcome)
    try:
        frame = parse_ballots_csv(text, terms.found.method, source=source,  # type: ignore[arg-type]
                                  outcomes=list(terms.by_name), options=options, groups=terms.names)
    except BallotFileError as exc:
        # The first of each kind of problem first: a fault on every line of one voter (or of the
        # file) must not hide the file's other faults until it is fixed.
        listed, more = exc.listed(MAX_SHOWN)
        messages = [e.describe(source) for e in listed] + ([f"and {plural(more, 'more problem')}"]
                                                           if more else [])
        raise ValidationFailed({"ballots": "The file was not imported. " + " · ".join(messages)}) from None
    _check_frame(frame, terms.found.method, terms.by_name, text, source)
    return CheckedImport(source, frame, terms.basis)


def save_import(db: Session, actor: User, session_id: int, round_id: int, checked: CheckedImport) -> ImportReport:
    """Save a checked file; returns what changed. Refused, saving nothing, if the round closed (or
    otherwise changed) since the file was checked."""
    # The same lock as every other ballot write: an import never lands after the round closes.
    locked = lock_round(db, round_id)
    terms = _terms(db, session_id, round_id)
    if locked is not None and (locked.status != terms.found.status or locked.session_status != SessionStatus.open):
        refuse_unless_open(locked)  # read under the lock (the round above may be as this session first saw it)
    if terms.basis != checked.basis:
        raise Conflict("The round changed while the file was being checked. Import the file again.")
    assert terms.found.id is not None
    saved = _save(db, session_id, terms.found.id, terms.found.method, checked.frame, terms.groups, terms.by_name)
    name_of = {group_id: terms.names[key] for key, group_id in terms.groups.items()}
    report = ImportReport(checked.source, len(checked.frame), saved.new, saved.replaced,
                          [Moved(ref, name_of.get(before, "another group"), name_of[after])
                           for ref, before, after in saved.moved])
    audit.record(db, actor, "round.imported", summary=report.describe(into=f"round {terms.found.number}"),
                 object_type="round", object_id=terms.found.id, population_group_id=terms.population_group_id,
                 session_id=session_id, details=report.details())
    db.commit()
    return report


def import_ballots(db: Session, actor: User, session_id: int, round_id: int, text: str,
                   source: str) -> ImportReport:
    """Check and save in one transaction (the demo, scripts); the web app checks first, then saves."""
    return save_import(db, actor, session_id, round_id, check_import(db, session_id, round_id, text, source))


@dataclass(frozen=True)
class _Saved:
    new: int  # voters given a ballot in the round
    replaced: int  # voters whose ballot in the round was replaced
    moved: list[tuple[str, int, int]]  # reference, group id before, group id now


def _save(db: Session, session_id: int, round_id: int, method: str, frame: pd.DataFrame,
          groups: dict[str, int], by_name: dict[str, int]) -> _Saved:
    """Write the checked ballots: each voter an imported participant of the session (found again
    by their reference), one ballot each in the round (a voter's earlier answers replaced), and
    the answers, in batches: a statement count that does not grow with the voters (5,000 voters
    x 40 answers took 100 s one voter at a time, holding the write lock all along, so every vote
    in the room waited). Returns what changed."""
    first = frame.drop_duplicates("participant")  # a voter's rows are all in one group (the parser)
    voters = sorted(zip(first["participant"].astype(str), first["group"].astype(str), strict=True))
    group_of = {ref: groups[name] for ref, name in voters}
    connection = db.connection()
    people = Participant.__table__  # type: ignore[attr-defined]

    def imported() -> dict[str, tuple[int, int]]:  # reference: (participant id, group id)
        return {r.external_ref: (r.id, r.stakeholder_group_id) for r in connection.execute(
            sa_select(people.c.id, people.c.external_ref, people.c.stakeholder_group_id)
            .where(people.c.session_id == session_id, people.c.external_ref.is_not(None)))}

    # Two imports into a session's rounds at once (the round lock is shared, as for votes) take
    # turns from here: each sees the voters the other added or moved, and says only its own changes.
    lock_people(connection, session_id)
    known = imported()
    new = [ref for ref, _name in voters if ref not in known]
    if new:
        number, now_joined = first_free_number(connection, session_id), utcnow()
        connection.execute(insert(people), [
            {"session_id": session_id, "stakeholder_group_id": group_of[ref], "first_name": "", "external_ref": ref,
             "token": secrets.token_urlsafe(32), "joined_at": now_joined, "number": number + n, "removed_reason": ""}
            for n, ref in enumerate(new)])
    # A voter imported again in another group has moved: the latest file is the truth, and the
    # report says so (import_report.py); ballots in earlier rounds keep the group they had.
    moved = [(ref, known[ref][1], group_of[ref]) for ref, _name in voters
             if ref in known and known[ref][1] != group_of[ref]]
    if moved:
        connection.execute(update(people).where(people.c.id == bindparam("p_id"))
                           .values(stakeholder_group_id=bindparam("group")),
                           [{"p_id": known[ref][0], "group": group} for ref, _before, group in moved])
    known = imported() if new else known
    # Keyed by the imported participant's id: a long name cut to fit could merge two voters.
    key_of = {ref: f"x:{known[ref][0]}" for ref, _name in voters}
    table = Ballot.__table__  # type: ignore[attr-defined]

    def ballots() -> dict[str, int]:
        return {r.voter_key: r.id for r in connection.execute(
            sa_select(table.c.id, table.c.voter_key).where(table.c.round_id == round_id,
                                                           table.c.voter_key.startswith("x:")))}

    existing, now = ballots(), utcnow()
    replaced = [existing[key_of[ref]] for ref, _name in voters if key_of[ref] in existing]
    for chunk in range(0, len(replaced), 10_000):
        ids = replaced[chunk:chunk + 10_000]
        for answers_of in (BallotAnswer.__table__, PairwiseAnswer.__table__):  # type: ignore[attr-defined]
            connection.execute(delete(answers_of).where(answers_of.c.ballot_id.in_(ids)))
    sent = {"submitted_at": now, "finished_at": now, "updated_at": now}
    if replaced:
        connection.execute(update(table).where(table.c.id == bindparam("b_id"))
                           .values(stakeholder_group_id=bindparam("group"), **sent),
                           [{"b_id": existing[key_of[ref]], "group": group_of[ref]} for ref, _name in voters
                            if key_of[ref] in existing])
    added = [ref for ref, _name in voters if key_of[ref] not in existing]
    if added:
        connection.execute(insert(table), [
            {"round_id": round_id, "voter_key": key_of[ref], "participant_id": known[ref][0],
             "stakeholder_group_id": group_of[ref], "draft_json": "", "source": "import", **sent} for ref in added])
        existing = ballots()
    ballot_of = {ref: existing[key_of[ref]] for ref, _name in voters}
    # In the order of the table's unique index (a ballot's answers together): inserted in file
    # order, voters sorted by reference, SQLite's index pages are visited at random (2x slower).
    rows = pd.DataFrame({"ballot_id": frame["participant"].astype(str).map(ballot_of)})
    if method == "pairwise":
        answers = PairwiseAnswer.__table__  # type: ignore[attr-defined]
        rows["left_outcome_id"] = frame["left"].astype(str).map(by_name)
        rows["right_outcome_id"] = frame["right"].astype(str).map(by_name)
        rows["choice"] = frame["choice"].astype(str)
    else:
        answers = BallotAnswer.__table__  # type: ignore[attr-defined]
        rows["outcome_id"] = frame["outcome"].astype(str).map(by_name)
        rows["value"] = frame["value"]
    rows = rows.sort_values(list(rows.columns[:2]), kind="stable")
    columns: dict[str, list[object]] = {name: rows[name].tolist() for name in rows.columns if name != "value"}
    if "value" in rows:
        unable = rows["value"].isna().tolist()
        scores = rows["value"].fillna(0).astype("int64").tolist()
        columns["value"] = [None if u else v for v, u in zip(scores, unable, strict=True)]
    _insert_many(connection, answers, columns, {"updated_at": now} | ({} if method == "pairwise" else {"reason": ""}))
    return _Saved(len(added), len(replaced), moved)


def _insert_many(connection: Connection, table: Table, columns: dict[str, list[object]],
                 same: dict[str, object]) -> None:
    """Insert rows given column by column (plain ints, strings and None) plus values the same in
    every row, straight through the driver: SQLAlchemy's per-row parameter handling took two thirds
    of an import's time (200,000 answers), all of it holding SQLite's write lock. The values the
    same in every row are converted once, as SQLAlchemy would store them."""
    dialect = connection.dialect
    fixed: dict[str, object] = {}
    for name, value in same.items():
        convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        fixed[name] = convert(value) if convert else value
    names = list(columns) + list(fixed)

    def rows(order: list[str]) -> Iterator[tuple[object, ...]]:
        given = (columns[n] if n in columns else repeat(fixed[n]) for n in order)
        return zip(*given, strict=False)  # the repeats are endless; the columns all one length

    if dialect.name == "postgresql":
        # COPY: executemany would send the rows one round trip each (60 us a row here).
        from psycopg import sql  # only where PostgreSQL is used

        copy_in = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(n) for n in names))
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(copy_in) as copy:  # type: ignore[union-attr]
            for row in rows(names):
                copy.write_row(row)
        return
    # SQLite's executemany, in batches, each row's values in the order of the compiled "?"s.
    compiled = insert(table).values({n: bindparam(n) for n in names}).compile(dialect=dialect)
    ordered = rows(list(compiled.positiontup or names))
    while batch := list(islice(ordered, 50_000)):
        connection.exec_driver_sql(str(compiled), batch)
