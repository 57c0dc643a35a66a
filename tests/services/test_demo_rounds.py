"""The demo's rounds: populated, closed and revealed, with results worth looking at."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from codesign import queries
from codesign.library import indicator_library
from codesign.models import AuditEvent, Ballot, BallotAnswer, FrameworkVersion, Participant, Round, ShortlistItem
from codesign.services import demo_rounds
from codesign.services.demo import seed_demo
from tests.round_helpers import load_demo


def _by_statement(session: Session, round_id: int) -> dict[str, tuple[str, dict[str, float]]]:
    """Outcome wording -> (consensus, group -> mean rating) in a rating round."""
    found = session.get(Round, round_id)
    assert found is not None
    view = queries.round_results(session, found.session_id, round_id)
    assert view.results is not None
    return {view.labels[o.outcome]: (str(o.consensus), {g: 1 + 8 * (r.score or 0) for g, r in o.groups.items()})
            for o in view.results.outcomes}


def test_the_demo_rounds_show_in_out_and_disagreement(engine: Engine, session: Session) -> None:
    info = load_demo(engine)
    first, second, third = session.exec(select(Round).where(Round.session_id == info.session_id)
                                        .order_by(col(Round.number))).all()
    assert [(r.method, r.status, r.revealed) for r in (first, second, third)] == [
        ("rating", "closed", True), ("rating", "closed", True), ("ranking", "closed", True)]
    assert second.feedback_round_id == first.id and json.loads(third.options_json)["top_k"] == 5
    assert len(queries.round_outcomes(session, first.id or 0)) == len(demo_rounds.OUTCOMES) == 10

    view = queries.round_results(session, info.session_id, first.id or 0)
    assert view.results is not None
    assert {k: g.n >= 8 and not g.small for k, g in view.results.groups.items()} == dict.fromkeys(
        ("patient", "carer", "clinician", "commissioner"), True)
    assert sum(g.n for g in view.results.groups.values()) == 12 + 32
    rated = _by_statement(session, first.id or 0)
    assert rated[demo_rounds.HYPOS][0] == "in" and rated[demo_rounds.AMPUTATION][0] == "in"
    assert rated[demo_rounds.WEIGHT][0] == "out"
    assert max(rated[demo_rounds.WEIGHT][1].values()) < 3.5  # low in every group
    nurse, hba1c = rated[demo_rounds.SAME_NURSE][1], rated[demo_rounds.HBA1C][1]
    assert nurse["patient"] >= 8 and nurse["clinician"] <= 5  # patients and clinicians clearly disagree
    assert hba1c["clinician"] >= 8 and hba1c["patient"] <= 6
    assert demo_rounds.SAME_NURSE in {view.labels[d.outcome] for d in view.results.agreement.disagreements}

    # Round 2: answers moved towards the room (one outcome reached consensus), and some people said why.
    again = _by_statement(session, second.id or 0)
    assert sum(c == "in" for c, _ in again.values()) > sum(c == "in" for c, _ in rated.values())
    assert again[demo_rounds.SAME_NURSE][1]["patient"] - again[demo_rounds.SAME_NURSE][1]["clinician"] < (
        nurse["patient"] - nurse["clinician"])
    reasons = session.exec(select(BallotAnswer.reason).join(Ballot, col(Ballot.id) == col(BallotAnswer.ballot_id))
                           .where(Ballot.round_id == second.id, BallotAnswer.reason != "")).all()
    assert 3 <= len(reasons) <= len(demo_rounds.REASONS)

    ranking = queries.round_results(session, info.session_id, third.id or 0)
    assert ranking.results is not None and ranking.labels[ranking.results.order[0]] == demo_rounds.HYPOS
    assert len(session.exec(select(Participant).where(col(Participant.external_ref).is_not(None))).all()) == 32

    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.object_type == "round"))]
    for action in ("round.created", "round.opened", "round.imported", "round.closed", "round.revealed"):
        assert actions.count(action) == 3, action

    # Idempotent: loading the demo again changes nothing.
    ballots_before = len(session.exec(select(Ballot)).all())
    assert not seed_demo(session).created
    assert len(session.exec(select(Round)).all()) == 3 and len(session.exec(select(Ballot)).all()) == ballots_before
    assert demo_rounds.seed_demo_rounds(session, None, info.session_id, info.population_group_id, []) == []  # type: ignore[arg-type]


def test_the_demo_frameworks_definitions_follow_the_indicator_library(engine: Engine, session: Session) -> None:
    """A measure without routine data (the diabetes distress score) keeps its library direction:
    a lower distress score is better, and the appendix and the FHIR export say so."""

    load_demo(engine)
    library = indicator_library()
    # The specifications name the provider the contract names, and who submits what fits the source.
    versions = session.exec(select(FrameworkVersion)).all()
    assert versions and all(v.provider for v in versions)
    checked = 0
    for item in session.exec(select(ShortlistItem)).all():
        definition = json.loads(item.definition_json)
        known = library.get(str(definition.get("indicator_key", "")))
        name = str(definition.get("indicator_name", ""))
        known = known or next((i for i in library.values() if i["name"] == name), None)
        if not item.included:
            continue
        version = next(v for v in versions if v.id == item.version_id)
        assert version.provider in definition.get("accountable_providers", ""), name
        national = definition.get("data_source") in ("National Diabetes Audit", "QOF", "HES/SUS", "ONS mortality")
        assert ("provider submits" in definition.get("data_submission", "")) != national, name
        if known and definition.get("direction"):
            assert definition["direction"] == known["direction"], name
            checked += 1
    assert checked >= 3
