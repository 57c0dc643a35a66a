"""Groups as a ballot file names them (voting/groups.py), read by the parser the app's import and
`codesign tally` share: by key or name, case, spacing and underscores ignored; anything else refused."""

from __future__ import annotations

import pytest

from codesign.voting import BallotFileError, parse_ballots_csv
from codesign.voting.groups import DEFAULT_GROUPS, find_group, group_lookup

GROUPS = {**DEFAULT_GROUPS, "social_care": "Social care"}


def test_a_group_is_found_by_key_or_name_whatever_the_case() -> None:
    lookup = group_lookup(GROUPS)
    for cell, key in [("Patients", "patient"), ("patients", "patient"), (" PATIENT ", "patient"),
                      ("Carers", "carer"), ("social care", "social_care"), ("Social_Care", "social_care"),
                      ("SOCIAL  CARE", "social_care")]:
        assert find_group(cell, lookup) == key, cell
    assert find_group("Patient's", lookup) is None and find_group("nurses", lookup) is None
    # A key wins over another group's name, whichever comes first.
    assert group_lookup({"a": "b", "b": "c"})["b"] == "b" and group_lookup({"b": "c", "a": "b"})["b"] == "b"


def test_the_parser_gives_keys_and_one_person_may_be_named_in_their_group_two_ways() -> None:
    text = "participant,group,outcome,value\nA,Patients,X,9\nA,patient,Y,8\nB,social care,X,3\nC,Carers,Y,U\n"
    frame = parse_ballots_csv(text, "rating", groups=GROUPS)
    assert list(frame["group"].astype(str)) == ["patient", "patient", "social_care", "carer"]
    assert set(frame["group"].cat.categories) == {"patient", "social_care", "carer"}  # each key once
    # Without groups, the cells are the groups, as written (and A is then in two).
    with pytest.raises(BallotFileError, match="a participant belongs to one group"):
        parse_ballots_csv(text, "rating")


def test_a_cell_naming_no_group_is_refused_at_its_line_and_column() -> None:
    text = "participant,group,outcome,value\nA,Patients,X,9\n\nB,Nurses,X,3\nC,Nurses,Y,4\nA,Carers,Y,2\n"
    with pytest.raises(BallotFileError) as caught:
        parse_ballots_csv(text, "rating", source="f.csv", groups=DEFAULT_GROUPS)
    described = [e.describe("f.csv") for e in caught.value.errors]
    unknown = ("“Nurses” is not a stakeholder group here; use one of patient, carer, clinician, commissioner "
               "(a group's key or its name)")
    assert described == [f"f.csv, line 4, column 2 (group): {unknown}", f"f.csv, line 5, column 2 (group): {unknown}",
                         "f.csv, line 6, column 2 (group): participant 'A' is in group 'Patients' on line 2; "
                         "a participant belongs to one group"]


def test_a_cell_naming_no_group_does_not_also_put_its_participant_in_two_groups() -> None:
    # A trial file: 100 voters x 12 outcomes, three faults. Voter V084's first line names "Nurses"
    # and their other eleven lines "patient": one problem, not twelve that hide the other two.
    outcomes = [f"O{n}" for n in range(12)]
    lines = ["participant,group,outcome,value"]
    for voter in range(1, 101):
        lines += [f"V{voter:03},{'Nurses' if voter == 84 and o == 'O0' else 'patient'},{o},5" for o in outcomes]
    lines[1100] = lines[1100].removesuffix(",5") + ",10"  # line 1101
    who, group, _outcome, value = lines[1150].split(",")
    lines[1150] = f"{who},{group},O99,{value}"  # line 1151
    with pytest.raises(BallotFileError) as caught:
        parse_ballots_csv("\n".join(lines) + "\n", "rating", source="s.csv", outcomes=outcomes,
                          groups=DEFAULT_GROUPS)
    error = caught.value
    assert [e.describe("s.csv") for e in error.errors] == [
        "s.csv, line 998, column 2 (group): “Nurses” is not a stakeholder group here; use one of patient, carer, "
        "clinician, commissioner (a group's key or its name)",
        "s.csv, line 1101, column 4 (value): 10 is out of range 1-9",
        "s.csv, line 1151, column 3 (outcome): 'O99' is not on the ballot"]
    assert error.count == 3


def test_a_participant_s_group_is_the_first_one_of_the_study_named_for_them() -> None:
    text = "participant,group,outcome,value\nA,Nurses,X,9\nA,patient,Y,8\nA,carer,Z,3\n"
    with pytest.raises(BallotFileError) as caught:
        parse_ballots_csv(text, "rating", source="f.csv", groups=DEFAULT_GROUPS)
    assert [(e.line, e.column, e.message.split(";")[0]) for e in caught.value.errors] == [
        (2, 2, "“Nurses” is not a stakeholder group here"),
        (4, 2, "participant 'A' is in group 'patient' on line 3")]
