"""Sign-off: who froze the version and who approved it (role, name, date), and signature lines for
the parties.

Approval comes after the freeze, so it is not in the frozen snapshot (whose SHA-256 it would
change). The export layer passes it beside the snapshot under the key `sign_off`
(`with_sign_off`); the fingerprint is always of the snapshot without it. Each stored export is an
*edition*: made before any approval (it says so, and when it was made) or with a given number of
approvals, so a file never claims more sign-off than existed when it was made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codesign.export import _labels as L
from codesign.export._model import Grid, Pairs

SIGN_OFF = "sign_off"
ROLES = {"admin": "Administrator", "commissioner": "Commissioner", "facilitator": "Facilitator",
         "observer": "Observer"}


def with_sign_off(snapshot: Mapping[str, Any], approvals: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The snapshot with its sign-off beside it: `approvals` are {name, role, at, note} (at: ISO time).
    Nothing else (no time of making), so the same approvals always give the same bytes."""
    return {**without_sign_off(snapshot), SIGN_OFF: {"approvals": [dict(a) for a in approvals]}}


def without_sign_off(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The frozen snapshot itself (what the SHA-256 is of)."""
    return {k: v for k, v in snapshot.items() if k != SIGN_OFF}


def edition(fmt: str, approvals: int) -> str:
    """The stored name of an export edition: `docx` before any approval, `docx.2` with two."""
    return fmt if approvals == 0 else f"{fmt}.{approvals}"


def approval_line(snapshot: Mapping[str, Any]) -> str:
    """One line for the spreadsheets: who approved it and when, or that no one had yet."""
    given = snapshot.get(SIGN_OFF)
    if given is None:
        return "Not part of the frozen data: see the version's page"
    approvals = given.get("approvals") or []
    if not approvals:
        return "Not yet approved when this copy was made"
    return "; ".join(f"{L.text(a.get('name'))} ({L.label(ROLES, a.get('role'))}) on {L.when(a.get('at'))}"
                     for a in approvals)


@dataclass(frozen=True)
class SignOff:
    frozen: Pairs
    approvals: Grid | None
    approval_note: str
    signatures: Grid


def build_sign_off(snapshot: Mapping[str, Any]) -> SignOff:
    fw = snapshot["framework"]
    who = fw.get("frozen_by") or {}
    given = snapshot.get(SIGN_OFF)
    approvals = list((given or {}).get("approvals") or [])
    frozen: Pairs = [("Frozen by", who.get("name") or L.NOT_STATED),
                     ("Role", L.label(ROLES, who.get("role")) if who.get("role") else L.NOT_STATED),
                     ("Date frozen", L.when(fw.get("frozen_at"))),
                     ("Version", str(fw["version"]))]
    grid = None
    if approvals:
        grid = Grid(header=("Approved by", "Role", "Date approved", "Note"),
                    rows=[(L.text(a.get("name")), L.label(ROLES, a.get("role")), L.when(a.get("at")),
                           L.text(a.get("note")) if a.get("note") else "No note") for a in approvals],
                    widths=(28, 18, 22, 32))
        note = (f"Approved by {len(approvals)} {'person' if len(approvals) == 1 else 'people'} other than the person "
                "who froze it. Approval is recorded in the audit log against this version's SHA-256.")
    elif given is None:
        note = "Approval is not part of the frozen data: see the version's page for who approved it."
    else:
        note = ("Not yet approved when this copy was made. A copy made after approval names the approvers: "
                "download it again from the version's page.")
    contract = fw.get("contract") or {}
    parties = (("Commissioner", contract.get("commissioner")), ("Provider", contract.get("provider")))
    signatures = Grid(header=("Party", "Organisation", "Signature", "Name", "Role", "Date"),
                      rows=[(party, org or "To be named", "", "", "", "") for party, org in parties],
                      widths=(14, 26, 22, 14, 12, 12))
    return SignOff(frozen=frozen, approvals=grid, approval_note=note, signatures=signatures)
