"""Indicator data and peer groups in: file imports (page and CLI) and the peer page's edits.

All or nothing: a file is parsed whole by codesign.evidence before anything is written, and a
refused file changes nothing. Re-importing a figure (same indicator, area, sex, age, category and
period) updates it in place. A peer file or edit replaces the peer list of each area it names and
leaves other areas alone, so the same file imported twice changes nothing the second time.
Imports and peer edits take one transaction-scoped advisory lock on PostgreSQL (SQLite's writers
queue anyway), so two imports of the same new figures at once add them once, not fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, text, tuple_
from sqlmodel import Session, col, select

from codesign.errors import ValidationFailed
from codesign.evidence import EvidenceFileError, IndicatorRow, parse_indicator_csv, parse_peers_csv
from codesign.evidence.files import KEY, MAX_CODE
from codesign.models import IndicatorValue, PeerLink, User, utcnow
from codesign.services import audit
from codesign.voting.csv_errors import UNWANTED

LOCK = 1620  # pg_advisory_xact_lock class for evidence writes (1619: round numbers)
_BATCH = 400  # keys per lookup: well under SQLite's bound-parameter limit
_SPLIT = re.compile(r"[\s,;]+")
FIGURES = ("indicator_name", "parent_code", "parent_name", "area_name", "area_type", "value", "lower_ci95",
           "upper_ci95", "lower_ci998", "upper_ci998", "count", "denominator", "value_note")


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    added: int
    updated: int
    indicators: tuple[str, ...]
    areas: int


def _lock(db: Session) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.connection().execute(text("SELECT pg_advisory_xact_lock(:lock, 0)"), {"lock": LOCK})


def _refused(exc: EvidenceFileError, source: str, field: str) -> ValidationFailed:
    return ValidationFailed({field: "The file was not imported. " + exc.describe(source)})


def _existing(db: Session, rows: list[IndicatorRow]) -> dict[tuple[str, ...], IndicatorValue]:
    found: dict[tuple[str, ...], IndicatorValue] = {}
    keys = [r.key() for r in rows]
    columns = [getattr(IndicatorValue, name) for name in KEY]
    for start in range(0, len(keys), _BATCH):
        batch = keys[start:start + _BATCH]
        for stored in db.exec(select(IndicatorValue).where(tuple_(*columns).in_(batch))):
            found[tuple(str(getattr(stored, name)) for name in KEY)] = stored
    return found


def import_indicators(db: Session, actor: User | None, content: str, source: str) -> ImportSummary:
    """Store every figure in a Fingertips-layout file, or refuse it whole (ValidationFailed on "file")."""
    if not content.strip():
        raise ValidationFailed({"file": "Choose a CSV file of indicator data to import"})
    try:
        rows = parse_indicator_csv(content)
    except EvidenceFileError as exc:
        raise _refused(exc, source, "file") from None
    _lock(db)
    existing = _existing(db, rows)
    now = utcnow()
    added = 0
    for row in rows:
        stored = existing.get(row.key())
        if stored is None:
            stored = IndicatorValue(**{name: getattr(row, name) for name in KEY})
            added += 1
        for name in FIGURES:
            setattr(stored, name, getattr(row, name))
        stored.source, stored.imported_at = source[:200], now
        db.add(stored)
    indicators = tuple(sorted({r.indicator_id for r in rows}))
    areas = len({r.area_code for r in rows})
    audit.record(db, actor, "evidence.imported",
                 summary=f"Imported {len(rows)} indicator figures ({added} new) from {source}",
                 object_type="indicator_data",
                 details={"source": source, "rows": len(rows), "added": added, "indicators": list(indicators)})
    db.commit()
    return ImportSummary(len(rows), added, len(rows) - added, indicators, areas)


def _replace_peers(db: Session, groups: dict[str, list[str]]) -> None:
    for area, peers in groups.items():
        db.exec(delete(PeerLink).where(col(PeerLink.area_code) == area))
        db.flush()
        for peer in peers:
            db.add(PeerLink(area_code=area, peer_code=peer))


def import_peers(db: Session, actor: User | None, content: str, source: str) -> dict[str, list[str]]:
    """Replace the peer list of every area named in an `area_code,peer_code` file."""
    if not content.strip():
        raise ValidationFailed({"file": "Choose a CSV file of peer areas to import"})
    try:
        groups = parse_peers_csv(content)
    except EvidenceFileError as exc:
        raise _refused(exc, source, "file") from None
    _lock(db)
    _replace_peers(db, groups)
    links = sum(len(p) for p in groups.values())
    audit.record(db, actor, "evidence.peers_imported",
                 summary=f"Imported peer groups for {len(groups)} areas ({links} peers) from {source}",
                 object_type="peer_group", details={"source": source, "areas": sorted(groups), "links": links})
    db.commit()
    return groups


def _codes(raw: str, field: str) -> list[str]:
    codes: list[str] = []
    for code in _SPLIT.split(raw.strip()):
        if not code:
            continue
        if UNWANTED.search(code) or len(code) > MAX_CODE:
            raise ValidationFailed({field: f"“{code[:40]}” is not an area code (at most {MAX_CODE} characters, "
                                           "no control characters)"})
        if code not in codes:
            codes.append(code)
    return codes


def save_peers(db: Session, actor: User | None, area: str, peers: str) -> list[str]:
    """Set one area's peers from codes separated by commas, spaces or new lines; none removes them."""
    area_codes = _codes(area, "area")
    if len(area_codes) != 1:
        raise ValidationFailed({"area": "Enter one area code, for example E38000240"},
                               values={"area": area, "peers": peers})
    (code,) = area_codes
    chosen = _codes(peers, "peers")
    if code in chosen:
        raise ValidationFailed({"peers": f"{code} cannot be its own peer"}, values={"area": area, "peers": peers})
    _lock(db)
    _replace_peers(db, {code: chosen})
    audit.record(db, actor, "evidence.peers_saved",
                 summary=f"Peers of {code} set to {', '.join(chosen) or 'none'}", object_type="peer_group",
                 details={"area": code, "peers": chosen})
    db.commit()
    return chosen
