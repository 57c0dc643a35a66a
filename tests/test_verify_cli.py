"""`codesign verify`, run in a subprocess the way an auditor would: exit 0 when clean, 1 with one
line per problem when anything was tampered with, 2 for a usage error."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from codesign.models import AuditEvent
from tests.integrity_helpers import as_owner
from tests.test_cli import run


def _newest(session: Session) -> AuditEvent:
    session.commit()
    newest = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
    assert newest is not None
    return newest


def test_verify_reports_tampering_and_a_rewritten_head(database_url: str, engine: Engine, session: Session,  # type: ignore[no-untyped-def]
                                                       workshop) -> None:
    newest = _newest(session)
    clean = run(["verify"], database_url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    head = f"{newest.seq}:{newest.hash}"
    assert f"Chain head: seq {newest.seq}, sha256 {newest.hash}" in clean.stdout
    assert "audit events " in clean.stdout and "No tampering found." in clean.stdout
    assert f"codesign verify --head {head}" in clean.stdout
    assert run(["verify", "--head", head], database_url).returncode == 0

    # Someone with full access deletes the newest event and winds the head back to match.
    previous = session.exec(select(AuditEvent).where(AuditEvent.seq == (newest.seq or 0) - 1)).one()
    as_owner(engine, f"DELETE FROM audit_event WHERE seq = {newest.seq}",
             f"UPDATE audit_chain_head SET seq = {previous.seq}, hash = '{previous.hash}'",
             tables=("audit_event", "audit_chain_head"))
    assert run(["verify"], database_url).returncode == 0  # consistent on its own...
    caught = run(["verify", "--head", head], database_url)  # ...but not with the head the auditor kept
    assert caught.returncode == 1
    assert f"audit_event seq {newest.seq}: the event you kept the hash of is missing" in caught.stdout
    assert "TAMPERING: 1 problem found." in caught.stdout

    as_owner(engine, "UPDATE audit_event SET summary = 'Edited' WHERE seq = 1", tables=("audit_event",))
    first = session.exec(select(AuditEvent).where(AuditEvent.seq == 1)).one()
    edited = run(["verify"], database_url)
    assert edited.returncode == 1
    assert edited.stdout.splitlines()[0] == (f"audit_event seq 1 (id {first.id}): hash does not match its contents "
                                             "(the event was changed)")


def test_verify_usage_errors_exit_2(database_url: str, tmp_path: Path) -> None:
    bad = run(["verify", "--head", "41:abc"], database_url)
    assert bad.returncode == 2 and "expected SEQ:SHA256" in bad.stderr
    unmigrated = run(["verify"], f"sqlite:///{tmp_path / 'empty.db'}")
    assert unmigrated.returncode == 2 and "run `codesign migrate` first" in unmigrated.stderr
