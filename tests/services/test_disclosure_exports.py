"""Small groups stay private in the frozen framework: the snapshot, its exports and the public page
never print figures resting on fewer answers than the round's minimum (voting.disclosure)."""

from __future__ import annotations

import csv
import io
import itertools
import json

from sqlmodel import Session
from starlette.testclient import TestClient

from codesign import export, queries
from codesign.models import User
from codesign.services import ballots, framework_versions, rounds, sessions, shortlist
from tests.framework_helpers import COMPLETE, TERMS
from tests.round_helpers import accepted_ids, open_round


def test_an_outcome_few_could_score_prints_no_figures_outside_the_console(  # type: ignore[no-untyped-def]
        client: TestClient, session: Session, facilitator: User, workshop) -> None:
    """Six patients, but only three could score B ("I cannot score this" x 3): B's patient figures
    (n=3, under the minimum of 5) are suppressed in the snapshot, its exports and the public page."""
    a, b = accepted_ids(session, workshop, 2)
    found = open_round(session, facilitator, workshop, [a, b])
    keys = itertools.count()
    people = {g: [sessions.join_session(session, workshop.id, g) for _ in range(n)]
              for g, n in (("patient", 6), ("clinician", 5), ("carer", 2))}
    for n, person in enumerate(people["patient"]):
        ballots.answer_rating(session, found.id, person.id, a, "9", f"k{next(keys):08d}")  # type: ignore[arg-type]
        ballots.answer_rating(session, found.id, person.id, b, "8" if n < 3 else "unable", f"k{next(keys):08d}")  # type: ignore[arg-type]
    for person in people["clinician"] + people["carer"]:
        for outcome in (a, b):
            ballots.answer_rating(session, found.id, person.id, outcome, "9", f"k{next(keys):08d}")  # type: ignore[arg-type]
    rounds.close_round(session, facilitator, workshop.id, found.id)  # type: ignore[arg-type]

    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    shortlist.build_from_round(session, facilitator, version.id, found.id)  # type: ignore[arg-type]
    framework_versions.save_terms(session, facilitator, version.id, TERMS)  # type: ignore[arg-type]
    for item in queries.get_version_view(session, version.id).items:  # type: ignore[arg-type]
        shortlist.save_definition(session, facilitator, version.id, item.item.id,  # type: ignore[arg-type]
                                  {**COMPLETE, "indicator_name": item.outcome.statement[:50]})
    shortlist.suggest_weights(session, facilitator, version.id)  # type: ignore[arg-type]
    frozen = framework_versions.freeze(session, facilitator, version.id)  # type: ignore[arg-type]
    snapshot = json.loads(frozen.snapshot_json or "{}")

    by_outcome = {o["outcome_id"]: o for o in snapshot["outcomes"]}
    patient_b = by_outcome[b]["votes"]["groups"]["patient"]
    assert patient_b["suppressed"] and patient_b["n"] is None and patient_b["pct_7_9"] is None
    assert by_outcome[a]["votes"]["groups"]["patient"] == {**by_outcome[a]["votes"]["groups"]["patient"],
                                                           "suppressed": False, "n": 6}
    assert by_outcome[b]["votes"]["groups"]["carer"]["suppressed"]  # two carers: the group is hidden
    # Combined scores that a hidden group or cell went into are left out (they could be worked back).
    assert by_outcome[b]["computed"]["score"] is None and by_outcome[b]["computed"]["score_suppressed"]
    # So is its consensus: every group rated B 7-9, so "in" would say how the two carers answered.
    assert by_outcome[b]["computed"]["consensus"] is None and by_outcome[b]["computed"]["consensus_suppressed"]
    assert snapshot["methods"]["rounds"][0]["participants"]["Carers"] is None

    buffer = io.BytesIO()
    export.export(snapshot, frozen.sha256 or "", "csv", buffer)
    table = {int(r["outcome_id"]): r for r in csv.DictReader(io.StringIO(buffer.getvalue().decode("utf-8-sig")))}
    assert table[b]["group.patient.n"] == "" and table[b]["group.patient.suppressed"] == "true"
    assert table[a]["group.patient.n"] == "6" and table[b]["computed_score"] == ""
    assert table[b]["computed_consensus"] == ""
    public = client.get(f"/p/{frozen.public_token}").text
    assert "Too few people to report" in public
