from __future__ import annotations

import pytest
from sqlmodel import Session, select

from codesign.errors import Conflict, ValidationFailed
from codesign.models import Outcome, OutcomeStatus, Participant, SessionStatus, StakeholderGroup, User
from codesign.services import population, sessions


def test_template_preloads_library_outcomes_with_domains_and_attribution(session: Session, facilitator: User) -> None:
    group = population.create_population_group(session, facilitator, "Older people", "", "older-people-frailty")
    outcomes = session.exec(select(Outcome).where(Outcome.population_group_id == group.id)).all()
    assert len(outcomes) >= 15
    assert all(o.status == OutcomeStatus.accepted and o.source == "library" and o.domain_key for o in outcomes)
    assert "ICHOM" in group.attribution
    keys = [g.key for g in session.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == group.id))]
    assert keys == ["patient", "carer", "clinician", "commissioner"]


def test_blank_population_group_has_default_groups_and_no_outcomes(session: Session, facilitator: User) -> None:
    group = population.create_population_group(session, facilitator, "Blank", "")
    assert session.exec(select(Outcome).where(Outcome.population_group_id == group.id)).all() == []
    assert len(session.exec(select(StakeholderGroup)).all()) == 4


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_population_group_name_checked(session: Session, facilitator: User, name: str) -> None:
    with pytest.raises(ValidationFailed):
        population.create_population_group(session, facilitator, name)


def test_join_codes_are_long_unambiguous_and_unique(session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    codes = {sessions.new_join_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 8 and not set(c) & set("01OIL") for c in codes)
    assert len(workshop.join_code) == 8


def test_closed_session_cannot_be_joined(session: Session, workshop, facilitator: User) -> None:  # type: ignore[no-untyped-def]
    sessions.set_session_status(session, facilitator, workshop.id, SessionStatus.closed)
    with pytest.raises(Conflict):
        sessions.join_session(session, workshop.id, "patient")


def test_join_validates_group_and_table(session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        sessions.join_session(session, workshop.id, "astronaut", "Ann", "table nine")
    assert set(caught.value.errors) == {"group", "table_number"}
    assert session.exec(select(Participant)).all() == []
    person = sessions.join_session(session, workshop.id, "carer", "  Ann  ", "9")
    assert (person.first_name, person.table_number) == ("Ann", 9)
    assert len(person.token) >= 40
