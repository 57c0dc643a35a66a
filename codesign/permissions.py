"""Who may do what: the one place that maps roles to actions.

Routes (`web.auth.requires`), services and templates (`can(current_user, "...")`) all ask here, so
a role's reach is changed in one table and nowhere else. Pure code: no database, no web.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from codesign.models import Role

__all__ = ["Action", "approval_refusal", "can", "can_approve", "roles"]


class Action(StrEnum):
    read = "read"  # consoles, presenter and projector, results, people, audit logs, frameworks
    run_workshop = "run_workshop"  # sessions, rounds, moderation, people, pausing the room
    edit_framework = "edit_framework"  # shortlist, definitions, payment terms, freezing, new drafts
    approve_framework = "approve_framework"  # sign off a frozen version (never the person who froze it, never a
    # facilitator)
    manage_accounts = "manage_accounts"  # create accounts, change roles, deactivate
    manage_evidence = "manage_evidence"  # import indicator data, import and edit peer groups
    manage_panels = "manage_panels"  # panels: their people (with names and emails), sessions, pooled rounds


_ROLES: dict[Action, tuple[str, ...]] = {
    Action.read: (Role.admin, Role.facilitator, Role.commissioner, Role.observer),
    Action.run_workshop: (Role.admin, Role.facilitator),
    Action.edit_framework: (Role.admin, Role.commissioner, Role.facilitator),
    # Sign-off is the commissioning side's: a facilitator runs the workshops but never approves.
    Action.approve_framework: (Role.admin, Role.commissioner),
    Action.manage_accounts: (Role.admin,),
    Action.manage_evidence: (Role.admin, Role.commissioner, Role.facilitator),
    # Panellists' names and emails are personal data: the people who run the study, no one else.
    Action.manage_panels: (Role.admin, Role.facilitator),
}


def roles(action: Action | str) -> tuple[str, ...]:
    """The roles that may do `action`."""
    return _ROLES[Action(action)]


def can(user: Any, action: Action | str) -> bool:
    """Whether this signed-in user (anything with a `role`; None for nobody) may do `action`."""
    return user is not None and getattr(user, "role", None) in roles(action)


def approval_refusal(user: Any, frozen_by_id: int | None) -> str | None:
    """Why this user may not approve a version frozen by `frozen_by_id`, or None when they may."""
    if not can(user, Action.approve_framework):
        return "Your role cannot approve an outcomes framework."
    if frozen_by_id is not None and getattr(user, "id", None) == frozen_by_id:
        return "The person who froze a version cannot also approve it; ask a colleague."
    return None


def can_approve(user: Any, version: Any, approved_by: Iterable[Any] = ()) -> bool:
    """For the version page: may approve, and has not approved this version already."""
    return approval_refusal(user, getattr(version, "frozen_by_id", None)) is None and \
        getattr(user, "id", None) not in {getattr(u, "id", u) for u in approved_by}
