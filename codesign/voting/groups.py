"""Stakeholder groups as people type them in a file; pure. One reading for every file that names
a group: a round's ballot import, ``codesign tally`` and the panel list upload.

A group is named by its key (``patient``) or its name (``Patients``), with case, spacing and
underscores ignored: "patients", " PATIENTS " and "Patients" are one group, the one keyed
``patient``. Anything else is not a group of the study and the file is refused, naming the line
and column (csvcheck.py): a misspelt group counted as a group of its own would take a share of
the weight that belongs to the groups that voted (every group weighs the same by default).

The groups known are the population group's (the app) or, for ``codesign tally``, the four every
population group starts with (DEFAULT_GROUPS) unless ``--groups`` names others.
"""

from __future__ import annotations

from collections.abc import Mapping

# key -> name, in the order pages list them: every population group starts with these (library.py).
DEFAULT_GROUPS: Mapping[str, str] = {
    "patient": "Patients",
    "carer": "Carers",
    "clinician": "Clinicians",
    "commissioner": "Commissioners",
}


def normalise_name(cell: str) -> str:
    """A name as typed, compared: case, spacing and underscores ignored ("Stakeholder_Group" =
    "stakeholder group")."""
    return " ".join(cell.replace("_", " ").split()).casefold()


def group_lookup(groups: Mapping[str, str]) -> dict[str, str]:
    """key -> name as {normalised key or name: key}. A key wins over another group's name."""
    found: dict[str, str] = {}
    for key, name in groups.items():
        found.setdefault(normalise_name(name), key)
    for key in groups:
        found[normalise_name(key)] = key
    return found


def find_group(cell: str, lookup: Mapping[str, str]) -> str | None:
    """The key of the group ``cell`` names (``lookup`` from group_lookup), or None."""
    return lookup.get(normalise_name(cell))


def unknown_group(cell: str, groups: Mapping[str, str]) -> str:
    """What to say about a cell that names no group (the cell is quoted as given)."""
    shown = cell if len(cell) <= 60 else cell[:60] + "…"
    return (f"“{shown}” is not a stakeholder group here; use one of {', '.join(groups)} "
            "(a group's key or its name)")
