"""Who may do what lives in one table (codesign.permissions): routes, services and templates ask it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from codesign import permissions
from codesign.permissions import Action, approval_refusal, can, can_approve
from codesign.web import auth

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@dataclass
class Someone:
    id: int
    role: str


@dataclass
class Version:
    frozen_by_id: int | None


def test_the_table() -> None:
    expected = {
        Action.read: {"admin", "facilitator", "commissioner", "observer"},
        Action.run_workshop: {"admin", "facilitator"},
        Action.edit_framework: {"admin", "commissioner", "facilitator"},
        Action.approve_framework: {"admin", "commissioner"},
        Action.manage_accounts: {"admin"},
        Action.manage_evidence: {"admin", "commissioner", "facilitator"},
        Action.manage_panels: {"admin", "facilitator"},
    }
    for action, allowed in expected.items():
        for role in ("admin", "facilitator", "commissioner", "observer", "participant"):
            assert can(Someone(1, role), action) == (role in allowed), (action, role)
    assert not can(None, Action.read)
    # The route guards are the same table, not a copy of it.
    assert set(auth.FACILITATORS) == expected[Action.run_workshop]
    assert set(auth.STAFF) == expected[Action.read] and set(auth.ADMINS) == {"admin"}


def test_the_person_who_froze_never_approves() -> None:
    freezer, colleague, observer = Someone(1, "commissioner"), Someone(2, "commissioner"), Someone(3, "observer")
    assert approval_refusal(freezer, 1) == "The person who froze a version cannot also approve it; ask a colleague."
    assert approval_refusal(colleague, 1) is None
    assert approval_refusal(observer, 1) == "Your role cannot approve an outcomes framework."
    assert not can_approve(freezer, Version(1)) and can_approve(colleague, Version(1))
    assert not can_approve(colleague, Version(1), [colleague])  # has approved already


def test_a_facilitator_never_approves_an_admin_may() -> None:
    facilitator, admin = Someone(4, "facilitator"), Someone(5, "admin")
    assert approval_refusal(facilitator, 1) == "Your role cannot approve an outcomes framework."
    assert not can_approve(facilitator, Version(1))
    assert approval_refusal(admin, 1) is None and can_approve(admin, Version(1))
    assert approval_refusal(admin, 5) is not None  # an admin who froze it cannot approve it either


def test_no_template_spells_out_roles() -> None:
    """Templates ask can(current_user, ...) rather than listing roles (which would drift apart)."""
    spelled = [f"{p.relative_to(TEMPLATES)}: {line.strip()}" for p in TEMPLATES.rglob("*.html")
               for line in p.read_text(encoding="utf-8").splitlines()
               if re.search(r"\.role\s*(==|!=|in\b|not in\b)", line)]
    assert spelled == []
    assert permissions.__all__
