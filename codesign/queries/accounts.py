"""Reads about who is asking: the user behind a sign-in session, the participant behind a device."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from codesign.models import LoginSession, Participant, User, WorkshopSession

__all__ = ["get_joined_participant", "get_signed_in_user"]


def get_signed_in_user(db: Session, token_sha256: str) -> User | None:
    """The active user whose sign-in session has this token digest and has not been ended."""
    return db.exec(
        select(User).join(LoginSession, col(LoginSession.user_id) == col(User.id))
        .where(LoginSession.token_sha256 == token_sha256, col(LoginSession.revoked_at).is_(None),
               col(User.active).is_(True))
    ).first()


def get_joined_participant(db: Session, code: str, tokens: Sequence[str]) -> tuple[WorkshopSession, Participant] | None:
    """The session with this code and the participant in it holding one of `tokens`, if any."""
    row = db.exec(
        select(WorkshopSession, Participant).join(Participant, col(Participant.session_id) == col(WorkshopSession.id))
        .where(WorkshopSession.join_code == code, col(Participant.token).in_(list(tokens)))
    ).first()
    return (row[0], row[1]) if row is not None else None

