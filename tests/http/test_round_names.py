"""Pages name a round once: "Round 1: Priorities", whether or not the facilitator numbered the title."""

from __future__ import annotations

from sqlmodel import Session
from starlette.testclient import TestClient

from codesign.models import User
from codesign.services import framework_versions, rounds
from tests.conftest import join, sign_in
from tests.framework_helpers import closed_rating_round
from tests.round_helpers import accepted_ids, open_round


def test_console_participant_home_and_shortlist_name_the_round_once(client: TestClient, other_client: TestClient,  # type: ignore[no-untyped-def]
                                                                    session: Session, facilitator: User,
                                                                    workshop) -> None:
    found = closed_rating_round(session, facilitator, workshop)
    found.title = "Round 1: Priorities"
    session.add(found)
    session.commit()
    open_round(session, facilitator, workshop, accepted_ids(session, workshop, 2), title="round 2 - Feet")
    sign_in(client, facilitator)
    console = client.get(f"/sessions/{workshop.id}").text
    assert "Round 1: Priorities</a>" in console and "Round 2: Feet</a>" in console
    assert "Round 1: Round 1" not in console and "Round 2: round 2" not in console
    version = framework_versions.start_draft(session, facilitator, workshop.population_group_id)
    page = client.get(f"/frameworks/{version.id}").text
    assert "Workshop one · Round 1: Priorities" in page and "round 1: Round 1" not in page
    rounds.set_revealed(session, facilitator, workshop.id, found.id, True)
    join(other_client, workshop.join_code)
    home = other_client.get(f"/s/{workshop.join_code}").text
    assert "Voting is open: Round 2: Feet" in home and "Round 1: Priorities: <a" in home
