"""The panel list upload: the pure parser (codesign.panel_list) and the service that adds everyone
or no one (services.panel_people.upload_panel_list)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from codesign import db
from codesign.errors import ValidationFailed
from codesign.models import AuditEvent, Panel, Panellist, StakeholderGroup, User, WorkshopSession
from codesign.panel_list import PanelListError, parse_panel_list
from codesign.services import panel_people, panels

GROUPS = {"patient": "Patients", "carer": "Carers", "clinician": "Clinicians", "commissioner": "Commissioners"}


def test_headers_by_name_groups_by_key_or_name_any_order_extra_columns_ignored() -> None:
    text = ("\ufeffEmail Address, Stakeholder_Group ,NAME,Notes,organisation\n"
            "ASHA@example.com,patient,Asha Patel,x,\n"
            "\n"
            "ben@example.com, clinicians ,  Ben   Jones ,,Riverside PCN\n")
    people = parse_panel_list(text, GROUPS, set())
    assert [(p.line, p.name, p.email, p.group_key, p.organisation) for p in people] == [
        (2, "Asha Patel", "asha@example.com", "patient", ""), (4, "Ben Jones", "ben@example.com", "clinician",
                                                                 "Riverside PCN")]


@pytest.mark.parametrize(("text", "taken", "expected"), [
    ("name,email\nA,a@example.com\n", set(), ["Line 1, column 3: missing column “stakeholder group”"]),
    ("name;email;group\nA;a@x.com;patient\n", set(), ["Line 1, column 1: the header has semicolons"]),
    ("name,email,group\nA,not-an-email,patient\n,b@example.com,martians\n", set(),
     ["Line 2, column 2 (email): 'not-an-email' is not an email address",
      "Line 3, column 1 (name): is empty", "Line 3, column 3 (stakeholder group): 'martians' is not a stakeholder"]),
    ("name,email,group\nA,a@example.com,patient\nB,A@EXAMPLE.COM,carer\n", set(),
     ["Line 3, column 2 (email): 'a@example.com' is also on line 2"]),
    ("name,email,group\nA,a@example.com,patient\n", {"a@example.com"},
     ["Line 2, column 2 (email): 'a@example.com' is already on this panel"]),
    # An unclosed quote swallows the rest of the file into one cell: the cells after it are empty.
    ("name,email,group\n\"A,a@example.com,patient\n", set(),
     ["Line 2, column 2 (email): is empty", "Line 2, column 3 (stakeholder group): is empty"]),
    ("name,email,group\nA\u202e,a@example.com,patient\n", set(),
     ["Line 2, column 1 (name): contains a character that cannot be imported (U+202E)"]),
    ("name,email,group\n", set(), ["Line 2, column 1: the file has a header but no people"]),
    ("", set(), ["Line 1, column 1: the file is empty"]),
])
def test_bad_files_are_refused_with_line_and_column(text: str, taken: set[str], expected: list[str]) -> None:
    with pytest.raises(PanelListError) as refused:
        parse_panel_list(text, GROUPS, taken)
    said = [p.describe() for p in refused.value.problems]
    assert len(said) == len(expected), said
    for line, start in zip(said, expected, strict=True):
        assert line.startswith(start), (line, start)


def _panel(session: Session, actor: User, workshop: WorkshopSession) -> Panel:
    return panels.create_panel(session, actor, workshop.population_group_id, "Diabetes study")


def test_upload_adds_everyone_numbered_after_those_already_there(session: Session, facilitator: User,
                                                                 workshop: WorkshopSession) -> None:
    panel = _panel(session, facilitator, workshop)
    assert panel.id is not None
    panels.add_panellist(session, facilitator, panel.id, "Ann", "ann@example.com", "carer")
    added = panel_people.upload_panel_list(session, facilitator, panel.id,
                                           "name,email,stakeholder group\nAsha,asha@example.com,Patients\n"
                                           "Ben,ben@example.com,clinician\n")
    assert added == 2
    people = session.exec(select(Panellist).where(Panellist.panel_id == panel.id).order_by(col(Panellist.number)))
    assert [(p.number, p.name) for p in people] == [(1, "Ann"), (2, "Asha"), (3, "Ben")]
    uploaded = session.exec(select(AuditEvent).where(AuditEvent.action == "panel.list_uploaded")).one()
    assert "asha" not in (uploaded.summary + uploaded.details).lower()
    # Anything wrong: refused whole, nobody added (one duplicate of someone already there).
    with pytest.raises(PanelListError):
        panel_people.upload_panel_list(session, facilitator, panel.id,
                                       "name,email,group\nCy,cy@example.com,carer\nAnn,ANN@example.com,carer\n")
    assert len(session.exec(select(Panellist)).all()) == 3


names = st.text(st.characters(codec="utf-8"), max_size=12)
emails = st.one_of(names, st.from_regex(r"[a-c]{1,2}@example\.com", fullmatch=True))
group_cells = st.one_of(names, st.sampled_from([*GROUPS, *GROUPS.values(), " PATIENT "]))
rows = st.lists(st.tuples(names, emails, group_cells, names), max_size=6)


def _csv(header: list[str], body: list[tuple[str, str, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([["name", "email", "stakeholder group", "organisation"], ["Email", "Group", "Name"],
                        ["name", "email"], ["name", "name", "email", "group"]]), rows)
def test_any_upload_adds_all_or_nothing_and_never_crashes(engine: Engine, facilitator: User,
                                                          workshop: WorkshopSession, header: list[str],
                                                          body: list[tuple[str, str, str, str]]) -> None:
    text = _csv(header, body)
    with db.write_session(engine) as s:
        actor = s.get_one(User, facilitator.id)
        panel = panels.create_panel(s, actor, workshop.population_group_id, f"Study {len(text)} {hash(text)}")
        assert panel.id is not None
        panel_id = panel.id
        try:
            added = panel_people.upload_panel_list(s, actor, panel_id, text)
        except (PanelListError, ValidationFailed) as refused:
            added = 0
            assert str(refused)
        s.rollback()
    with Session(engine) as s:
        stored = s.exec(select(Panellist).where(Panellist.panel_id == panel_id)).all()
        assert len(stored) == added
        groups = {g.key: g.name for g in s.exec(select(StakeholderGroup).where(
            StakeholderGroup.population_group_id == workshop.population_group_id))}
        try:
            expected = len(parse_panel_list(text, groups, set()))
        except PanelListError:
            expected = 0
        assert added == expected  # everyone the file names, or no one
        if added:
            assert len({p.email for p in stored}) == added and [p.number for p in sorted(
                stored, key=lambda p: p.number)] == list(range(1, added + 1))
