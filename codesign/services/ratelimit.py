"""Failed-attempt limits (sign-in, join codes), kept in the database so every process agrees."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from codesign.models import RateLimitHit, utcnow


def failures(db: Session, key: str, window_seconds: int) -> int:
    since = utcnow() - timedelta(seconds=window_seconds)
    stmt = select(func.count()).where(RateLimitHit.key == key, RateLimitHit.created_at >= since)
    return int(db.exec(stmt).one())


def is_limited(db: Session, keys: list[str], limit: int, window_seconds: int) -> bool:
    return any(failures(db, key, window_seconds) >= limit for key in keys)


def add_failure(db: Session, keys: list[str]) -> None:
    for key in keys:
        db.add(RateLimitHit(key=key))


def clear(db: Session, key: str) -> None:
    db.exec(delete(RateLimitHit).where(col(RateLimitHit.key) == key))


def prune(db: Session, older_than_seconds: int) -> None:
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    db.exec(delete(RateLimitHit).where(col(RateLimitHit.created_at) < cutoff))
