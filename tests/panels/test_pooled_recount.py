"""A study team recounts a pooled round themselves: the pooled results page's ballots download, fed
to `codesign tally` with no options, gives the page's figures (each person once, a pseudonym per
pool, no names or emails, formulas neutralised, for the people who run the study only)."""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from codesign.models import Ballot, Outcome, Participant, Round, User, WorkshopSession, utcnow
from codesign.queries.pooled import pooled_view
from codesign.services import panel_people, rounds
from tests.conftest import make_user, sign_in
from tests.http.test_tally_parity import comparable, tally
from tests.panels.helpers import make_study, open_all, person_in, rate
from tests.panels.test_pooled import vote_everywhere

FORMULA = "=HYPERLINK(\"http://evil.example/\") my kidneys"


def unquoted(document: dict[str, Any]) -> dict[str, Any]:
    """The file's outcome names as the app's: a neutralised wording loses its leading quote."""
    for item in [*document["outcomes"], *(document.get("agreement") or {}).get("disagreements", [])]:
        for name in ("outcome", "label"):
            if name in item:
                item[name] = item[name].removeprefix("'")
    return document


def test_the_pooled_ballots_download_recounts_to_the_pooled_results_with_no_options(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession, tmp_path: Path) -> None:
    study = make_study(session, facilitator, workshop, 4, min_group_size="")  # a new round's smallest group
    assert study.panel.id is not None
    open_all(session, facilitator, study)
    vote_everywhere(session, study)  # two rooms and an online round: 17 people
    # An outcome whose wording a spreadsheet would run as a formula.
    session.execute(update(Outcome).where(col(Outcome.id) == study.outcomes[3]).values(statement=FORMULA))
    session.commit()
    # Asha answered online, and came to the second workshop too: matched there, she counts once, with
    # her room answers (the later ones).
    asha = study.people[0]
    in_room = person_in(session, study.sessions[1], "patient")
    rate(session, study.rounds[1], in_room, study.outcomes, ["1", "1", "9", "9"])
    panel_people.match_participant(session, facilitator, study.panel.id, str(in_room.id), str(asha.id))
    session.execute(update(Ballot).where(col(Ballot.voter_key) == f"p:{in_room.id}")
                    .values(updated_at=utcnow() + timedelta(minutes=5)))
    session.commit()
    page_url = f"/panels/{study.panel.id}/rounds/{study.panel_round_id}"
    url = f"{page_url}/ballots.csv"
    sign_in(client, facilitator)
    for r in study.rounds[:2]:
        rounds.close_round(session, facilitator, r.session_id, r.id or 0)
    assert client.get(url).status_code == 409  # not counted until the online round closes too
    rounds.close_round(session, facilitator, study.rounds[2].session_id, study.rounds[2].id or 0)
    view = pooled_view(session, study.panel.id, study.panel_round_id)
    assert view.pooled is not None and view.pooled.results is not None
    mine = view.pooled.to_dict()
    assert sum(g["n"] for g in mine["groups"].values()) == 17  # Asha once, not twice

    page = client.get(page_url).text
    name = f"panel-{study.panel.id}-pooled-round-1-ballots.csv"
    assert url in page and f"codesign tally {name} --method rating</code>" in page
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="{name}"' in response.headers["content-disposition"]
    assert response.content.startswith(codecs.BOM_UTF8)
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["participant", "group", "outcome", "value"]

    # One pseudonym per person in the pool: 17 people, Asha once (with her room answers).
    people: dict[str, dict[str, str]] = {}
    for row in rows:
        assert re.fullmatch(r"P-[0-9a-f]{12}", row["participant"]), row["participant"]
        people.setdefault(row["participant"], {})[row["outcome"]] = row["value"]
    assert len(people) == 17 and len(rows) == 17 * 4
    words = [session.get_one(Outcome, o).statement for o in study.outcomes]
    assert sum(1 for answers in people.values() if answers == dict(zip(
        [*words[:3], "'" + FORMULA], ["1", "1", "9", "9"], strict=True))) == 1
    assert not any(cell.startswith(("=", "+", "@", "-")) for row in rows for cell in row.values())
    # No names or emails; not the ids of any session's own answers.csv (per round, on purpose).
    for secret in [*(p.name for p in study.people), *(p.email for p in study.people), in_room.token]:
        assert secret not in text, secret
    for member in study.rounds:
        answers = client.get(f"/sessions/{member.session_id}/rounds/{member.id}/answers.csv").content
        own = {row["participant"] for row in csv.DictReader(io.StringIO(answers.decode("utf-8-sig")))}
        assert own and not own & set(people)
    assert client.get(url).content == response.content  # the same file each time

    file = tmp_path / name
    file.write_bytes(response.content)
    status, theirs, err = tally(file)  # --method only, as the page says
    assert status == 0 and theirs is not None, err
    assert comparable(mine) == unquoted(comparable(theirs))


def test_the_pooled_ballots_are_for_the_people_who_run_the_study(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 3, min_group_size="")
    open_all(session, facilitator, study)
    for r in study.rounds:
        rate(session, session.get_one(Round, r.id), person_in(session, session.get_one(WorkshopSession, r.session_id),
                                                               "patient"), study.outcomes, ["9", "5", "1"])
        rounds.close_round(session, facilitator, r.session_id, r.id or 0)
    url = f"/panels/{study.panel.id}/rounds/{study.panel_round_id}/ballots.csv"
    assert client.get(url).status_code == 303  # not signed in: to the sign-in page
    sign_in(client, make_user(session, "commissioner"))  # staff, but panellists are not theirs to see
    assert client.get(url).status_code == 403
    assert session.exec(select(Participant)).all()


def test_no_pooled_ballots_that_would_not_give_the_figures_shown(
        client: TestClient, session: Session, facilitator: User, workshop: WorkshopSession) -> None:
    study = make_study(session, facilitator, workshop, 4, min_group_size="")
    assert study.panel.id is not None
    open_all(session, facilitator, study)
    vote_everywhere(session, study)
    in_room = session.exec(select(Participant).where(Participant.session_id == study.sessions[1].id)
                           .order_by(col(Participant.id))).first()
    assert in_room is not None
    for r in study.rounds:
        rounds.close_round(session, facilitator, r.session_id, r.id or 0)
    url = f"/panels/{study.panel.id}/rounds/{study.panel_round_id}/ballots.csv"
    sign_in(client, facilitator)
    assert client.get(url).status_code == 200
    # Matched after the count: the pooled figures on the page no longer come from these ballots.
    same_group = next(p for p in study.people if p.stakeholder_group_id == in_room.stakeholder_group_id)
    panel_people.match_participant(session, facilitator, study.panel.id, str(in_room.id), str(same_group.id))
    response = client.get(url)
    assert response.status_code == 409 and "after this round was counted" in response.text
