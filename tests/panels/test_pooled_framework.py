"""A framework's shortlist from a pooled round, and the appendix's annex reporting every round of
the study: each session's rounds and each pooled round with its pooled and per-session counts."""

from __future__ import annotations

import html

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from codesign.errors import Conflict, ValidationFailed
from codesign.export._annex import build_annex
from codesign.models import ShortlistItem, User, WorkshopSession
from codesign.queries.pooled import pooled_view
from codesign.queries.snapshot import build_snapshot
from codesign.services import framework_versions, round_control, rounds, shortlist
from tests.conftest import post_form, sign_in
from tests.panels.helpers import Study, make_study, open_all, person_in, rate
from tests.round_helpers import accepted_ids

# Two sessions' worth of voters per group: outcome 0 clearly IN everywhere, outcome 2 clearly OUT.
VALUES = [["9", "6", "1", "5"], ["8", "5", "2", "6"], ["9", "4", "1", "5"]]


def counted_study(session: Session, facilitator: User, workshop: WorkshopSession) -> Study:
    study = make_study(session, facilitator, workshop, 4)
    open_all(session, facilitator, study)
    for index, found in enumerate(study.rounds):
        for group in ("patient", "carer", "clinician", "commissioner"):
            for values in VALUES[: 2 if index < 2 else 1]:
                rate(session, found, person_in(session, study.sessions[index], group), study.outcomes, values)
    for found in study.rounds:
        assert found.id is not None
        rounds.close_round(session, facilitator, found.session_id, found.id)
    return study


def test_shortlist_from_a_pooled_round_and_the_annex_reports_it(session: Session, facilitator: User,
                                                                workshop: WorkshopSession) -> None:
    study = counted_study(session, facilitator, workshop)
    assert study.panel.id is not None
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    assert version.id is not None
    added = shortlist.build_from_panel_round(session, facilitator, version.id, study.panel_round_id)
    pooled = pooled_view(session, study.panel.id, study.panel_round_id).pooled
    assert pooled is not None and pooled.results is not None
    assert added == len(pooled.results.outcomes) == 4
    items = session.exec(select(ShortlistItem).where(ShortlistItem.version_id == version.id)).all()
    by_outcome = {i.outcome_id: i for i in items}
    for result in pooled.results.outcomes:  # the pooled figures, not any one session's
        item = by_outcome[int(result.outcome)]
        assert (item.computed_rank, item.computed_score, item.computed_consensus) == (
            result.rank, result.score, result.consensus)
        assert (item.source_round_id, item.source_panel_round_id) == (None, study.panel_round_id)
    assert {i.outcome_id for i in items if i.included} == {study.outcomes[0]}
    # The snapshot names the pooled round as each item's source, and reports every round of the study.
    snapshot = build_snapshot(session, version.id)
    assert snapshot["outcomes"][0]["source_round"]["title"] == "Pooled round 1: How important is each outcome?"
    assert snapshot["outcomes"][0]["votes"]["groups"]["patient"]["n"] == 5  # 2 + 2 + 1 patients
    assert len(snapshot["methods"]["rounds"]) == 3  # each session's own round
    (entry,) = snapshot["methods"]["pooled_rounds"]
    assert entry["source"] and entry["participants"] == {"Carers": 5, "Clinicians": 5, "Commissioners": 5,
                                                         "Patients": 5}
    assert [s["pooled_people"] for s in entry["sessions"]] == [8, 8, 4]
    annex = build_annex(snapshot)
    pooled_annex = [r for r in annex.rounds if r.heading.startswith("Pooled round 1")]
    assert len(pooled_annex) == 1 and len(annex.rounds) == 4
    fields = dict(pooled_annex[0].fields)
    assert fields["Sessions"] == "Workshop one; Workshop two; Online round"
    assert "each person counted once" in fields["Counting"]
    online = fields["Online round (round 1, online)"]
    assert online.endswith("; 4 in the pooled count") and "too few to report" in online
    assert "@" not in repr(snapshot)
    # A member round can no longer be reopened: a framework was built from the pooled results.
    member = study.rounds[1]
    with pytest.raises(Conflict):
        round_control.reopen_round(session, facilitator, member.session_id, member.id or 0, "Late votes")


def test_a_pooled_round_not_yet_counted_or_of_another_group_is_refused(session: Session, facilitator: User,
                                                                       workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 3)
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    assert version.id is not None
    with pytest.raises(ValidationFailed):
        shortlist.build_from_panel_round(session, facilitator, version.id, study.panel_round_id)
    with pytest.raises(ValidationFailed):
        shortlist.build_from_panel_round(session, facilitator, version.id, 9999)
    assert session.exec(select(ShortlistItem)).all() == []


def test_the_framework_page_builds_from_a_pooled_round(client: TestClient, session: Session, facilitator: User,
                                                       workshop: WorkshopSession) -> None:
    study = counted_study(session, facilitator, workshop)
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}"
    page = client.get(url)
    assert page.status_code == 200, page.text[:300]
    assert f'value="pooled:{study.panel_round_id}"' in page.text
    done = post_form(client, f"{url}/shortlist/build", {"round": f"pooled:{study.panel_round_id}"}, token_from=url)
    assert done.status_code == 303
    assert {i.source_panel_round_id for i in session.exec(select(ShortlistItem))} == {study.panel_round_id}
    refused = post_form(client, f"{url}/shortlist/build", {"round": "pooled:x"}, token_from=url)
    assert refused.status_code == 422


def test_rebuilding_from_the_pooled_round_replaces_every_computed_field(client: TestClient, session: Session,
                                                                       facilitator: User,
                                                                       workshop: WorkshopSession) -> None:
    """The study team built the shortlist from workshop one's own round, gave a reason for keeping
    outcome 1 in against it, had an outcome from elsewhere on the list ("Rank 2, consensus in"),
    then rebuilt from the pooled round. The pooled figures replace the old ones on every item: the
    reason that argued against workshop one's result goes (the checklist asks again), and the
    outcome not in the pooled round shows no rank or consensus from another round."""
    study = counted_study(session, facilitator, workshop)
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    assert version.id is not None
    shortlist.build_from_round(session, facilitator, version.id, study.rounds[0].id or 0)
    items = {i.outcome_id: i for i in session.exec(select(ShortlistItem).where(ShortlistItem.version_id == version.id))}
    kept = items[study.outcomes[1]]
    assert not kept.computed_in
    shortlist.set_included(session, facilitator, version.id, kept.id or 0, True, "Ranked 6 in the final round")
    other = next(o for o in accepted_ids(session, workshop) if o not in study.outcomes)
    session.add(ShortlistItem(version_id=version.id, outcome_id=other, position=99, included=True,
                              source_round_id=study.rounds[0].id, computed_rank=2, computed_consensus="in",
                              computed_in=True))
    session.commit()
    shortlist.build_from_panel_round(session, facilitator, version.id, study.panel_round_id)
    items = {i.outcome_id: i for i in session.exec(select(ShortlistItem).where(ShortlistItem.version_id == version.id))}
    session.refresh(items[study.outcomes[1]])
    kept = items[study.outcomes[1]]
    assert kept.included and kept.source_panel_round_id == study.panel_round_id and kept.reason == ""
    gone = items[other]
    session.refresh(gone)
    assert (gone.computed_rank, gone.computed_consensus, gone.computed_in) == (None, None, False)
    assert (gone.source_round_id, gone.source_panel_round_id) == (None, None)
    assert all(i.source_panel_round_id == study.panel_round_id for o, i in items.items() if o != other)
    # The page says which round the shortlist is from, and asks for the reason on the page itself.
    sign_in(client, facilitator)
    url = f"/frameworks/{version.id}"
    page = html.unescape(client.get(url).text)
    assert ("The vote results below are from pooled round 1 “How important is each outcome?” of "
            "“Diabetes study 2027”.") in page
    assert "Rank 2, consensus in" not in page
    assert f'id="keep-reason-{kept.id}"' in page and "Give the reason" in page
    saved = post_form(client, f"{url}/shortlist/include", {"item": str(kept.id), "include": "yes",
                                                           "reason": "The board asked for it (minute 2026/31)",
                                                           "anchor": "shortlist"}, token_from=url)
    assert saved.status_code == 303, saved.text[:500]
    assert saved.headers["location"].endswith("#shortlist"), saved.headers["location"]
    session.expire_all()
    kept = session.get_one(ShortlistItem, kept.id)
    assert kept.included and kept.reason == "The board asked for it (minute 2026/31)"


def test_a_later_rounds_feedback_warning_uses_the_pooled_counts(session: Session, facilitator: User,
                                                               workshop: WorkshopSession) -> None:
    """Round 2 runs online only, taking feedback from the online session's member of pooled round
    1. Online alone had 1 person a group (under the minimum of 5), so the new-round form warned
    that every group's spread would be hidden; the page feeds back the pooled spread (5 a group),
    so nothing is hidden and the form must say so."""
    from codesign.queries.round_console import get_feedback_source

    study = counted_study(session, facilitator, workshop)
    online = study.rounds[2]
    assert online.id is not None
    source = get_feedback_source(session, online.session_id, str(online.id))
    assert source is not None
    assert (source.hidden_groups, source.hidden_cells) == ([], 0)
