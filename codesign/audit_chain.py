"""The audit log's hash chain, as pure functions (no database): what an event's hash covers.

Each event's hash is the SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8; the same
encoding as a framework snapshot) of an object holding its sequence number, the previous event's
hash and every recorded field. The first event's previous hash is 64 zeros. Changing any field of
any event, removing one or swapping two breaks the chain from there on; the chain head (the newest
`seq` and `hash`, kept in its own row and printed by `codesign verify`) shows removed newest ones.

Migration 0007 holds a frozen copy of this encoding for its backfill: change neither without the other
(and never change it for existing events: their stored hashes were made with it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from codesign.export.canonical import canonical_json

GENESIS = "0" * 64
# The recorded fields an event's hash covers, besides seq and prev_hash. Not `id`: the database
# assigns it at insert, after the hash is made; `seq` orders the chain instead.
FIELDS = ("created_at", "actor_id", "actor_label", "action", "object_type", "object_id",
          "population_group_id", "session_id", "summary", "details")


def utc_text(moment: datetime) -> str:
    """A timestamp as naive UTC ISO text with microseconds: the same whether the database gives it
    back naive (SQLite stores UTC wall time) or aware in the connection's time zone (PostgreSQL)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ", timespec="microseconds")


def event_hash(seq: int, prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The hash of event `seq` whose predecessor's hash is `prev_hash`; `fields` has every FIELDS key."""
    body: dict[str, Any] = {"seq": seq, "prev_hash": prev_hash}
    for name in FIELDS:
        value = fields[name]
        body[name] = utc_text(value) if isinstance(value, datetime) else value
    return hashlib.sha256(canonical_json(body)).hexdigest()


def fields_of(event: Any) -> dict[str, Any]:
    """The hashed fields of an AuditEvent (or any object with those attributes)."""
    return {name: getattr(event, name) for name in FIELDS}
