"""Panel writes sent at once (two facilitators, a double click), each in its own transaction and
thread. Meaningful on PostgreSQL (tests/with_postgres.sh), where they really overlap; on SQLite the
write lock queues them and the same results must hold. Never a 500 (an IntegrityError)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from codesign.errors import ValidationFailed
from codesign.models import Panellist, Participant, Round, User, WorkshopSession
from codesign.panel_list import PanelListError
from codesign.services import panel_people, panels, pooled, rounds
from tests.panels.helpers import person_in
from tests.round_helpers import accepted_ids, round_form
from tests.services.test_undo_races import all_at_once, at_once


def test_the_same_person_added_twice_at_once_is_added_once(engine: Engine, session: Session, facilitator: User,
                                                           workshop: WorkshopSession) -> None:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Study")
    panel_id, user_id = panel.id or 0, facilitator.id
    session.close()

    def add(s: Session) -> int:
        return panels.add_panellist(s, s.get_one(User, user_id), panel_id, "Asha", "asha@example.com",
                                    "patient").number

    results = at_once(4, add, engine)
    assert sorted(r for r in results if isinstance(r, int)) == [1], results
    assert all(isinstance(r, ValidationFailed) and "already" in r.errors["email"] for r in results
               if not isinstance(r, int)), results


def test_overlapping_lists_uploaded_at_once_add_each_person_once(engine: Engine, session: Session,
                                                                 facilitator: User,
                                                                 workshop: WorkshopSession) -> None:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Study")
    panel_id, user_id = panel.id or 0, facilitator.id
    session.close()
    first = "name,email,group\nAsha,asha@example.com,patient\nBen,ben@example.com,carer\n"
    second = "name,email,group\nCy,cy@example.com,carer\nBen,BEN@example.com,carer\n"

    def upload(text: str):  # type: ignore[no-untyped-def]
        return lambda s: panel_people.upload_panel_list(s, s.get_one(User, user_id), panel_id, text)

    results = all_at_once([upload(first), upload(second)], engine)
    assert sorted(r for r in results if isinstance(r, int)) == [2], results  # one list whole, the other refused
    refused = next(r for r in results if not isinstance(r, int))
    assert isinstance(refused, PanelListError) and "already on this panel" in str(refused)
    with Session(engine) as s:
        people = s.exec(select(Panellist).order_by(col(Panellist.number))).all()
        assert [p.number for p in people] == [1, 2] and len({p.email for p in people}) == 2


def test_two_participants_matched_to_one_panellist_at_once(engine: Engine, session: Session, facilitator: User,
                                                            workshop: WorkshopSession) -> None:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Study")
    assert panel.id is not None
    panel_people.attach_session(session, facilitator, panel.id, str(workshop.id))
    asha = panels.add_panellist(session, facilitator, panel.id, "Asha", "asha@example.com", "patient")
    one, two = person_in(session, workshop, "patient"), person_in(session, workshop, "patient")
    panel_id, user_id, asha_id, ids = panel.id, facilitator.id, str(asha.id), (one.id or 0, two.id or 0)
    session.close()

    def match(participant: int):  # type: ignore[no-untyped-def]
        return lambda s: panel_people.match_participant(s, s.get_one(User, user_id), panel_id, str(participant),
                                                        asha_id).participant.id

    results = all_at_once([match(ids[0]), match(ids[1])], engine)
    assert len([r for r in results if isinstance(r, int)]) == 1, results
    assert any(isinstance(r, ValidationFailed) for r in results), results
    with Session(engine) as s:
        assert len(s.exec(select(Participant).where(Participant.panellist_id == int(asha_id))).all()) == 1


def test_run_elsewhere_sent_twice_at_once_makes_one_copy_per_session(engine: Engine, session: Session,
                                                                     facilitator: User,
                                                                     workshop: WorkshopSession) -> None:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Study")
    assert panel.id is not None and workshop.id is not None
    panel_people.attach_session(session, facilitator, panel.id, str(workshop.id))
    other = panel_people.create_panel_session(session, facilitator, panel.id, "Workshop two", "", "room")
    draft = rounds.create_round(session, facilitator, workshop.id, round_form(accepted_ids(session, workshop, 3)))
    user_id, session_id, round_id, target = facilitator.id, workshop.id, draft.id or 0, str(other.id)
    session.close()

    def run(s: Session) -> int:
        return pooled.run_in_sessions(s, s.get_one(User, user_id), session_id, round_id, [target]).number

    results = at_once(3, run, engine)
    assert [r for r in results if isinstance(r, int)] == [1], results
    assert all(isinstance(r, ValidationFailed) and "already runs" in r.errors["sessions"] for r in results
               if not isinstance(r, int)), results
    with Session(engine) as s:
        assert len(s.exec(select(Round).where(Round.session_id == int(target))).all()) == 1


def test_rounds_pooled_at_once_get_their_own_numbers(engine: Engine, session: Session, facilitator: User,
                                                     workshop: WorkshopSession) -> None:
    panel = panels.create_panel(session, facilitator, workshop.population_group_id, "Study")
    assert panel.id is not None and workshop.id is not None
    panel_people.attach_session(session, facilitator, panel.id, str(workshop.id))
    other = panel_people.create_panel_session(session, facilitator, panel.id, "Workshop two", "", "room")
    form = round_form(accepted_ids(session, workshop, 3))
    pairs = [[str(rounds.create_round(session, facilitator, sid, form).id) for sid in (workshop.id, other.id or 0)]
             for _ in range(3)]
    panel_id, user_id = panel.id, facilitator.id
    session.close()

    def link(ids: list[str]):  # type: ignore[no-untyped-def]
        return lambda s: pooled.link_rounds(s, s.get_one(User, user_id), panel_id, ids).number

    assert sorted(all_at_once([link(p) for p in pairs], engine)) == [1, 2, 3]


def test_panels_made_or_given_a_session_at_once(engine: Engine, session: Session, facilitator: User,
                                                workshop: WorkshopSession) -> None:
    group_id, user_id, session_id = workshop.population_group_id, facilitator.id, str(workshop.id)
    session.close()

    def create(s: Session) -> int:
        return panels.create_panel(s, s.get_one(User, user_id), group_id, "Diabetes study").id or 0

    made = at_once(3, create, engine)
    assert len([r for r in made if isinstance(r, int)]) == 1, made
    assert all(isinstance(r, ValidationFailed) and "already has a panel" in r.errors["name"] for r in made
               if not isinstance(r, int)), made
    with Session(engine) as s:
        other = panels.create_panel(s, s.get_one(User, user_id), group_id, "Another study").id or 0
    mine = next(r for r in made if isinstance(r, int))

    def attach(panel_id: int):  # type: ignore[no-untyped-def]
        return lambda s: panel_people.attach_session(s, s.get_one(User, user_id), panel_id, session_id).panel_id

    results = all_at_once([attach(mine), attach(other)], engine)
    assert len([r for r in results if isinstance(r, int)]) == 1, results
    assert any(isinstance(r, ValidationFailed) and "another panel" in r.errors["session"] for r in results)
    with Session(engine) as s:
        assert s.get_one(WorkshopSession, int(session_id)).panel_id in results
