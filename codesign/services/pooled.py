"""Pooled rounds: one round run in several of a panel's sessions at once (models.PanelRound).

A facilitator makes one from a draft round ("run this round in other sessions too": the same
round as a draft in each chosen session) or by linking existing rounds whose counting settings are
the same. The pooled results are counted once, when the last member round closes
(``count_when_complete``, called by closing a round or a session), and kept on the pooled round
like a round's, with their SHA-256 in the audit log (``codesign verify`` recounts them). Reopening
or resetting a member round discards them; they are counted again when it closes.

Counting it once when two last member rounds close at the same moment: each close takes the
pooled round's row lock (FOR UPDATE) after closing its own round and only then reads whether every
member has closed. The second to take the lock waits for the first to commit, then sees both
closed (a fresh statement under READ COMMITTED) and the results the first stored, if it stored any.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from codesign.errors import Conflict, NotFound, ValidationFailed
from codesign.export.canonical import canonical_json
from codesign.models import Panel, PanelRound, Round, RoundOutcome, RoundStatus, User, WorkshopSession, utcnow
from codesign.queries.pooled import count_pooled, counting_settings, differences, member_rounds, settings_differences
from codesign.queries.rounds import stored_document
from codesign.services import audit
from codesign.services.rounds import next_round_number, round_outcome_ids
from codesign.validation import parse_id


def _locked(db: Session, panel_round_id: int) -> PanelRound:
    found = db.exec(select(PanelRound).where(PanelRound.id == panel_round_id).with_for_update()
                    .execution_options(populate_existing=True)).first()
    if found is None:
        raise NotFound("No such pooled round")
    return found


def _log(db: Session, actor: User | None, found: PanelRound, action: str, summary: str, **details: object) -> None:
    panel = db.get(Panel, found.panel_id)
    assert panel is not None
    audit.record(db, actor, action, summary=summary, object_type="panel_round", object_id=found.id,
                 population_group_id=panel.population_group_id, details=dict(details))


def count_when_complete(db: Session, actor: User | None, panel_round_ids: Sequence[int | None]) -> list[int]:
    """Count and keep each pooled round whose member rounds have all closed, once (no commit: the
    caller's close commits). Locks in id order, so two closes never wait on each other in a cycle."""
    counted = []
    for pid in sorted({i for i in panel_round_ids if i is not None}):
        found = _locked(db, pid)
        members = member_rounds(db, pid)
        if found.results_json is not None or not members or any(r.status != RoundStatus.closed for r in members):
            continue
        differ = settings_differences(db, members)
        if differ:
            # Edited apart after linking: their ballots answer different questions. Say so, count nothing.
            _log(db, actor, found, "panel_round.not_counted",
                 f"Pooled round {found.number} “{found.title}” not counted: its rounds’ settings differ ("
                 + "; ".join(f"round id {rid}: {', '.join(d)}" for rid, d in sorted(differ.items())) + ")",
                 differences={str(k): v for k, v in differ.items()})
            continue
        view, given = count_pooled(db, members)
        document_body = {**stored_document(view), "pooled_ballots": {str(k): v for k, v in given.items()},
                         "members": [{"round_id": r.id, "session_id": r.session_id,
                                      "results_sha256": r.results_sha256} for r in members]}
        document = canonical_json(document_body)
        found.results_json = document.decode("utf-8")
        found.results_sha256 = hashlib.sha256(document).hexdigest()
        found.counted_at = utcnow()
        db.add(found)
        _log(db, actor, found, "panel_round.counted",
             f"Pooled round {found.number} “{found.title}” counted: {sum(given.values())} people’s ballots from "
             f"{len(members)} sessions, each person once", results_sha256=found.results_sha256,
             pooled_ballots={str(k): v for k, v in given.items()})
        counted.append(pid)
    return counted


def discard_pooled(db: Session, actor: User | None, found: Round, why: str) -> None:
    """A member round reopened or reset: the pooled results go (no commit), to be counted again."""
    if found.panel_round_id is None:
        return
    pooled = _locked(db, found.panel_round_id)
    if pooled.results_json is None:
        return
    _log(db, actor, pooled, "panel_round.discarded",
         f"Pooled round {pooled.number} “{pooled.title}”: results discarded because round {found.number} "
         f"was {why}; counted again when every member round has closed",
         discarded_results_sha256=pooled.results_sha256, round_id=found.id)
    pooled.results_json = pooled.results_sha256 = None
    pooled.counted_at = None
    db.add(pooled)


def _next_number(db: Session, panel_id: int) -> int:
    """The panel's next pooled round number; two made at once take theirs in turn (a transaction-
    scoped advisory lock per panel on PostgreSQL, as round numbers do), never a unique-key failure."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(1620, :pid)"), {"pid": panel_id})
    return int(db.exec(select(func.coalesce(func.max(PanelRound.number), 0)).where(
        PanelRound.panel_id == panel_id)).one()) + 1


def _panel_of(db: Session, session_id: int) -> tuple[WorkshopSession, Panel]:
    session = db.get(WorkshopSession, session_id)
    if session is None:
        raise NotFound("No such session")
    panel = db.get(Panel, session.panel_id) if session.panel_id else None
    if panel is None:
        raise Conflict("This session is not part of a panel. Add it to a panel first, on the panel’s page.")
    return session, panel


def _pooled_for(db: Session, actor: User, panel: Panel, found: Round) -> PanelRound:
    if found.panel_round_id is not None:
        existing = _locked(db, found.panel_round_id)
        return existing
    assert panel.id is not None
    pooled = PanelRound(panel_id=panel.id, number=_next_number(db, panel.id), title=found.title,
                        created_by_id=actor.id)
    db.add(pooled)
    db.flush()
    found.panel_round_id = pooled.id
    db.add(found)
    return pooled


def run_in_sessions(db: Session, actor: User, session_id: int, round_id: int, targets: Sequence[str]) -> PanelRound:
    """The draft round again, as a draft, in each chosen session of the same panel, all one pooled
    round: the same outcomes, method, options, consensus rule and way of combining groups."""
    session, panel = _panel_of(db, session_id)
    found = db.exec(select(Round).where(Round.id == round_id).with_for_update()
                    .execution_options(populate_existing=True)).first()
    if found is None or found.session_id != session_id:
        raise NotFound("No such round in this session")
    if found.status != RoundStatus.draft:
        raise Conflict("Only a draft round can be run in other sessions too: this one has opened.")
    if found.table_based:
        raise Conflict("A round voted by tables cannot be pooled: its tables belong to one room.")
    chosen: list[WorkshopSession] = []
    for raw in targets:
        target_id = parse_id(raw.strip())
        into = db.get(WorkshopSession, target_id) if target_id else None
        if into is None or into.panel_id != panel.id or into.id == session_id:
            raise ValidationFailed({"sessions": "Choose other sessions of this panel"}, {"sessions": list(targets)})
        if into not in chosen:
            chosen.append(into)
    if not chosen:
        raise ValidationFailed({"sessions": "Choose at least one other session of this panel"}, {"sessions": []})
    pooled = _pooled_for(db, actor, panel, found)
    already = [s for s in chosen if db.exec(select(Round.id).where(Round.session_id == s.id,
                                                                   Round.panel_round_id == pooled.id)).first()]
    if already:  # a double click, or a second facilitator: the round runs there already
        raise ValidationFailed({"sessions": "This round already runs in " + ", ".join(f"“{s.title}”" for s in already)},
                               {"sessions": list(targets)})
    outcome_ids = list(round_outcome_ids(db, round_id))
    made = []
    for into in chosen:
        assert into.id is not None
        copy = Round(session_id=into.id, number=next_round_number(db, into.id), title=found.title,
                     method=found.method, combine=found.combine, options_json=found.options_json,
                     rule_json=found.rule_json, table_based=False, created_by_id=actor.id,
                     panel_round_id=pooled.id)
        db.add(copy)
        db.flush()
        assert copy.id is not None
        for position, outcome_id in enumerate(outcome_ids):
            db.add(RoundOutcome(round_id=copy.id, outcome_id=outcome_id, position=position))
        made.append(copy)
    _log(db, actor, pooled, "panel_round.extended",
         f"Pooled round {pooled.number} “{pooled.title}” now also runs in "
         + ", ".join(f"“{s.title}”" for s in chosen) + f" ({len(outcome_ids)} outcomes, {found.method})",
         from_round_id=round_id, from_session_id=session.id, rounds_created=[r.id for r in made],
         sessions=[s.id for s in chosen])
    db.commit()
    return pooled


def link_rounds(db: Session, actor: User, panel_id: int, round_ids: Sequence[str]) -> PanelRound:
    """Link existing rounds of the panel's sessions (none closed, none pooled yet) into one pooled
    round. Refused, saying what differs, unless their counting settings are the same."""
    panel = db.get(Panel, panel_id)
    if panel is None:
        raise NotFound("No such panel")
    ids = sorted({i for i in (parse_id(r.strip()) for r in round_ids) if i})
    rounds = list(db.exec(select(Round).where(col(Round.id).in_(ids)).order_by(col(Round.id)).with_for_update()
                          .execution_options(populate_existing=True))) if ids else []
    values = {"rounds": list(round_ids)}
    if len(rounds) < 2 or len(rounds) != len(ids):
        raise ValidationFailed({"rounds": "Choose two or more rounds to run as one"}, values)
    sessions = {r.session_id: db.get(WorkshopSession, r.session_id) for r in rounds}
    if any(s is None or s.panel_id != panel_id for s in sessions.values()):
        raise ValidationFailed({"rounds": "Choose rounds from this panel’s sessions"}, values)
    if len(sessions) != len(rounds):
        raise ValidationFailed({"rounds": "Choose one round from each session"}, values)
    if any(r.status == RoundStatus.closed for r in rounds):
        raise ValidationFailed({"rounds": "A closed round cannot be pooled: its results were counted on their own"},
                               values)
    if any(r.panel_round_id is not None for r in rounds):
        raise ValidationFailed({"rounds": "One of these rounds is already part of a pooled round"}, values)
    if any(r.table_based for r in rounds):
        raise ValidationFailed({"rounds": "A round voted by tables cannot be pooled"}, values)
    first = rounds[0]
    base = counting_settings(db, first)
    differ = {r.id or 0: differences(base, counting_settings(db, r)) for r in rounds[1:]}
    differ = {k: v for k, v in differ.items() if v}
    if differ:
        by_round = {r.id: r for r in rounds}
        raise ValidationFailed({"rounds": "These rounds are not the same round, so they cannot be pooled: " + "; ".join(
            f"round {by_round[k].number} of “{sessions[by_round[k].session_id].title}” "  # type: ignore[union-attr]
            f"has a different {', '.join(v)}" for k, v in sorted(differ.items()))}, values)
    pooled = PanelRound(panel_id=panel_id, number=_next_number(db, panel_id), title=first.title,
                        created_by_id=actor.id)
    db.add(pooled)
    db.flush()
    for r in rounds:
        r.panel_round_id = pooled.id
        db.add(r)
    _log(db, actor, pooled, "panel_round.linked",
         f"Pooled round {pooled.number} “{pooled.title}” made of {len(rounds)} rounds in "
         + ", ".join(f"“{s.title}”" for s in sessions.values() if s is not None),
         rounds=[r.id for r in rounds])
    db.commit()
    return pooled
