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
