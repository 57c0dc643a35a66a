"""The audit hash chain and the tamper checks behind `codesign verify` and the version page.

Tampering is simulated as a database owner would do it: with the triggers dropped (SQLite) or
disabled (PostgreSQL) for the statement (tests/integrity_helpers.py)."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from codesign import db, integrity
from codesign.audit_chain import GENESIS, event_hash, fields_of
from codesign.errors import Conflict
from codesign.models import AuditChainHead, AuditEvent, FrameworkExport
from codesign.services import audit, framework_versions
from tests.integrity_helpers import Frozen, as_owner, frozen_version


def _chain(session: Session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))))


def _problems(session: Session, **kwargs: object) -> list[str]:
    session.commit()
    return [str(p) for p in integrity.verify(session, **kwargs).problems]  # type: ignore[arg-type]


def _seq_of(session: Session, action: str) -> tuple[int, int]:
    found = session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.seq))).first()
    assert found is not None and found.seq is not None and found.id is not None
    return found.seq, found.id


@pytest.fixture
def frozen(session: Session, facilitator, workshop) -> Frozen:  # type: ignore[no-untyped-def]
    return frozen_version(session, facilitator, workshop)


def test_events_form_one_unbroken_chain_up_to_the_head(session: Session, facilitator, workshop) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):  # several events in one transaction, then one more on its own
        audit.record(session, facilitator, "test.event", summary=f"Event {n}", details={"n": n, "text": "café ✓"})
    session.commit()
    audit.record(session, None, "test.event", summary="On its own")
    session.commit()
    events = _chain(session)
    assert [e.seq for e in events] == list(range(1, len(events) + 1)) and len(events) >= 6
    prev = GENESIS
    for e in events:
        assert e.prev_hash == prev and e.hash == event_hash(e.seq or 0, prev, fields_of(e))
        prev = e.hash or ""
    head = session.get(AuditChainHead, 1)
    assert head is not None and (head.seq, head.hash) == (events[-1].seq, events[-1].hash)
    found = integrity.verify(session)
    assert found.problems == [] and found.head == (head.seq, head.hash)


def test_a_rolled_back_service_leaves_no_trace_in_the_chain(session: Session, facilitator, frozen: Frozen) -> None:  # type: ignore[no-untyped-def]
    before = session.get(AuditChainHead, 1)
    assert before is not None
    head_before = before.seq
    audit.record(session, facilitator, "test.dropped", summary="Rolled back")
    session.rollback()
    # A refused change to a frozen version rolls back, then audits the refusal: one event, chained.
    with pytest.raises(Conflict):
        framework_versions.freeze(session, facilitator, frozen.version.id or 0)
    events = _chain(session)
    assert [e.action for e in events if (e.seq or 0) > head_before] == ["framework.change_refused"]
    assert _problems(session) == []


def test_concurrent_writers_append_one_unbroken_chain(engine: Engine, session: Session) -> None:
    """Eight writers commit at the same moment, ten times each: no sequence number is taken twice,
    none is skipped, every link holds (on PostgreSQL the head row's lock makes them take turns)."""
    writers, rounds = 8, 10
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(rounds):
                with db.write_session(engine) as s:
                    audit.record(s, None, "test.concurrent", summary=f"Writer {n}, event {i}")
                    audit.record(s, None, "test.concurrent", summary=f"Writer {n}, event {i}, second")
                    s.commit()
        except BaseException as exc:  # reported below
            failures.append(exc)

    before = len(_chain(session))
    session.close()
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    events = _chain(session)
    assert len(events) == before + writers * rounds * 2
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert _problems(session) == []
    # The two events each transaction recorded sit side by side in the chain.
    for first, second in itertools.pairwise(events):
        if first.summary.startswith("Writer") and not first.summary.endswith("second"):
            assert second.summary == first.summary + ", second"


def test_editing_an_event_is_reported_with_its_sequence_number(engine: Engine, session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    seq, event_id = _seq_of(session, "session.created")
    as_owner(engine, f"UPDATE audit_event SET summary = 'Nothing happened' WHERE seq = {seq}", tables=("audit_event",))
    assert _problems(session) == [f"audit_event seq {seq} (id {event_id}): hash does not match its contents "
                                  "(the event was changed)"]


def test_an_edit_that_recomputes_the_hash_still_breaks_the_next_link(engine: Engine, session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    events = _chain(session)
    target = events[0]
    forged = event_hash(target.seq or 0, GENESIS, {**fields_of(target), "summary": "Forged"})
    as_owner(engine, f"UPDATE audit_event SET summary = 'Forged', hash = '{forged}' WHERE seq = 1", tables=("audit_event",))
    assert _problems(session) == [f"audit_event seq 2 (id {events[1].id}): does not link to the event before it "
                                  "(its previous hash differs): an event before it was changed, removed or reordered"]


def test_deleting_and_reordering_events_are_reported(engine: Engine, session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        audit.record(session, None, "test.event", summary=f"Event {n}")
    session.commit()
    as_owner(engine, "DELETE FROM audit_event WHERE seq IN (3, 4)",
             "UPDATE audit_event SET seq = -6 WHERE seq = 6", "UPDATE audit_event SET seq = 6 WHERE seq = 5",
             "UPDATE audit_event SET seq = 5 WHERE seq = -6", tables=("audit_event",))
    problems = _problems(session)
    assert "audit_event seq 3 to 4: missing from the chain (deleted)" in problems
    assert any(p.startswith("audit_event seq 5 ") and "hash does not match" in p for p in problems)
    assert any(p.startswith("audit_event seq 6 ") and "hash does not match" in p for p in problems)


def test_deleting_the_newest_events_is_caught_by_the_head(engine: Engine, session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    newest = _chain(session)[-1].seq or 0
    as_owner(engine, f"DELETE FROM audit_event WHERE seq >= {newest - 1}", tables=("audit_event",))
    assert _problems(session) == [
        f"audit_event seq {newest - 1} to {newest}: missing: the chain head names seq {newest} but the newest "
        f"event is seq {newest - 2} (the newest events were deleted)"]


def test_rewriting_the_head_too_is_caught_only_by_a_head_kept_outside(engine: Engine, session: Session,  # type: ignore[no-untyped-def]
                                                                      workshop) -> None:
    events = _chain(session)
    kept = (events[-1].seq or 0, events[-1].hash or "")
    previous = events[-2]
    as_owner(engine, f"DELETE FROM audit_event WHERE seq = {kept[0]}",
             f"UPDATE audit_chain_head SET seq = {previous.seq}, hash = '{previous.hash}'",
             tables=("audit_event", "audit_chain_head"))
    assert _problems(session) == []  # a consistent chain: only something kept elsewhere shows the loss
    assert _problems(session, kept_head=kept) == [f"audit_event seq {kept[0]}: the event you kept the hash of is missing"]


def test_an_event_added_behind_the_apps_back_is_reported(engine: Engine, session: Session, workshop) -> None:  # type: ignore[no-untyped-def]
    as_owner(engine, "INSERT INTO audit_event (created_at, actor_label, action, object_type, summary, details) "
                     "VALUES ('2026-01-01 00:00:00', 'someone', 'test.forged', '', 'Forged', '{}')")
    forged = session.exec(select(AuditEvent).where(AuditEvent.action == "test.forged")).one()
    assert _problems(session) == [f"audit_event id {forged.id}: not in the chain (no sequence number): "
                                  "added behind the app's back"]


def test_a_changed_snapshot_is_reported_even_with_its_hash_recomputed(engine: Engine, session: Session,  # type: ignore[no-untyped-def]
                                                                      frozen: Frozen) -> None:
    import json

    from codesign.export.canonical import canonical_json, snapshot_sha256

    snapshot = json.loads(frozen.version.snapshot_json or "")
    snapshot["framework"]["title"] = "Something else"
    digest = snapshot_sha256(snapshot)
    v = frozen.version
    as_owner(engine, f"UPDATE framework_version SET snapshot_json = :body WHERE id = {v.id}",
             tables=("framework_version",), params={"body": canonical_json(snapshot).decode("utf-8")})
    frozen_seq, frozen_id = _seq_of(session, "framework.frozen")
    assert _problems(session) == [f"framework_version {v.id} (version {v.number}): its snapshot does not match its "
                                  "SHA-256 (the snapshot was changed)"]
    as_owner(engine, f"UPDATE framework_version SET sha256 = '{digest}' WHERE id = {v.id}", tables=("framework_version",))
    problems = _problems(session)
    assert (f"framework_version {v.id} (version {v.number}): its SHA-256 differs from the one recorded when it was "
            f"frozen (audit_event seq {frozen_seq} (id {frozen_id}))") in problems
    assert f"framework_approval {frozen.approval.id} (version id {v.id}, user {frozen.approver.id})" in problems[-1]


def test_unfreezing_a_version_is_reported(engine: Engine, session: Session, frozen: Frozen) -> None:
    v = frozen.version
    as_owner(engine, f"UPDATE framework_version SET status = 'draft' WHERE id = {v.id}", tables=("framework_version",))
    frozen_seq, frozen_id = _seq_of(session, "framework.frozen")
    problems = _problems(session)
    assert (f"framework_version {v.id} (version {v.number}): was frozen (audit_event seq {frozen_seq} "
            f"(id {frozen_id})) but is now a draft") in problems


def test_approvals_must_match_their_audit_events(engine: Engine, session: Session, frozen: Frozen) -> None:
    a, v = frozen.approval, frozen.version
    approval_id, user_id, version_id, frozen_by = a.id, a.user_id, v.id, v.frozen_by_id
    subject = f"framework_approval {approval_id} (version id {version_id}, user {user_id})"
    as_owner(engine, f"UPDATE framework_approval SET note = 'Approved without reservation' WHERE id = {approval_id}",
             tables=("framework_approval",))
    approved_seq, approved_id = _seq_of(session, "framework.approved")
    assert _problems(session) == [f"{subject}: its note differs from the audited one (audit_event seq "
                                  f"{approved_seq} (id {approved_id}))"]
    as_owner(engine, f"DELETE FROM framework_approval WHERE id = {approval_id}", tables=("framework_approval",))
    assert _problems(session) == [f"framework_approval of version id {version_id} by user {user_id}: audited "
                                  f"(audit_event seq {approved_seq} (id {approved_id})) but missing from the database"]
    as_owner(engine, f"INSERT INTO framework_approval (version_id, user_id, note, created_at) VALUES "
                     f"({version_id}, {frozen_by}, '', '2026-01-01 00:00:00')", tables=("framework_approval",))
    assert any(p.endswith("no audit event records this approval") for p in _problems(session))


def test_stored_exports_must_match_their_hash_and_the_audited_one(engine: Engine, session: Session,  # type: ignore[no-untyped-def]
                                                                  frozen: Frozen) -> None:
    x = frozen.export
    subject = f"framework_export {x.id} (version id {x.version_id}, csv)"
    export_id, version_id = x.id, x.version_id
    stored_seq, stored_id = _seq_of(session, "framework.export_stored")
    assert _problems(session) == []
    as_owner(engine, f"UPDATE framework_export SET content = content || content WHERE id = {export_id}",
             tables=("framework_export",))
    assert _problems(session) == [f"{subject}: its content does not match its stored SHA-256 (the file was changed)"]
    as_owner(engine, f"UPDATE framework_export SET sha256 = '{'0' * 64}' WHERE id = {export_id}",
             tables=("framework_export",))
    problems = _problems(session)
    assert (f"{subject}: its stored SHA-256 differs from the audited one (audit_event seq {stored_seq} "
            f"(id {stored_id}))") in problems
    as_owner(engine, f"DELETE FROM framework_export WHERE id = {export_id}", tables=("framework_export",))
    assert _problems(session) == [f"framework_export of version id {version_id} (csv): audited (audit_event seq "
                                  f"{stored_seq} (id {stored_id})) but missing from the database"]


def test_storing_an_export_audits_its_hash(session: Session, frozen: Frozen) -> None:
    import hashlib
    import json

    event = session.exec(select(AuditEvent).where(AuditEvent.action == "framework.export_stored")).one()
    details = json.loads(event.details)
    assert details == {"bytes": 7, "export_id": frozen.export.id, "format": "csv",
                       "sha256": hashlib.sha256(b"rank\n1\n").hexdigest()}
    assert (event.object_type, event.object_id) == ("framework_version", frozen.version.id)
    assert len(session.exec(select(FrameworkExport)).all()) == 1


def test_the_version_checks_cover_the_events_that_anchor_it(engine: Engine, session: Session, frozen: Frozen) -> None:
    v = frozen.version
    assert integrity.verify_version(session, v.id or 0) == []
    seq, event_id = _seq_of(session, "framework.approved")
    as_owner(engine, f"UPDATE audit_event SET summary = 'x' WHERE seq = {seq}", tables=("audit_event",))
    session.commit()
    assert [str(p) for p in integrity.verify_version(session, v.id or 0)] == [
        f"audit_event seq {seq} (id {event_id}): hash does not match its contents (the event was changed)"]
    assert integrity.verify_version(session, frozen.draft.id or 0) == []


def test_migration_chains_existing_events_and_records_stored_exports(engine: Engine) -> None:
    """0007 on a database with history: events chained in id order, stored exports audited, the
    append-only triggers back in place; and it downgrades and upgrades again."""
    from alembic import command

    command.downgrade(db.alembic_config(engine), "0005")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_event (created_at, actor_label, action, object_type, object_id, summary, "
                          "details) VALUES ('2026-01-01 09:00:00.123456', 'a@example.nhs.uk', 'old.event', 'thing', 7, "
                          "'Before the chain', '{\"k\": \"é\"}'), (:t, 'system', 'old.event', '', NULL, 'Second', '{}')"),
                     {"t": "2026-01-02 10:00:00"})
        conn.execute(text("INSERT INTO population_group (name, description, attribution, created_at) "
                          "VALUES ('Group', '', '', '2026-01-01 00:00:00')"))
        group = conn.execute(text("SELECT id FROM population_group")).scalar_one()
        conn.execute(text("INSERT INTO framework_version (population_group_id, number, status, title, mechanism, "
                          "years_json, created_at, updated_at, commissioner, provider, contract_reference) VALUES "
                          "(:g, 1, 'draft', 'T', 'withhold', '[]', '2026-01-01', '2026-01-01', '', '', '')"), {"g": group})
        conn.execute(text("UPDATE framework_version SET status = 'frozen', snapshot_json = '{}', sha256 = :h"),
                     {"h": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"})
        version = conn.execute(text("SELECT id FROM framework_version")).scalar_one()
        conn.execute(text("INSERT INTO audit_event (created_at, actor_label, action, object_type, object_id, summary, "
                          "details) VALUES ('2026-01-03', 'system', 'framework.frozen', 'framework_version', :v, 'F', "
                          "'{\"sha256\": \"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\"}')"),
                     {"v": version})
        conn.execute(text("INSERT INTO framework_export (version_id, format, content, sha256, created_at) "
                          "VALUES (:v, 'csv', :c, :h, '2026-01-03')"),
                     {"v": version, "c": b"abc", "h": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"})
    db.migrate(engine)
    with Session(engine) as s:
        events = _chain(s)
        assert [(e.seq, e.action) for e in events] == [(1, "old.event"), (2, "old.event"), (3, "framework.frozen"),
                                                      (4, "framework.export_stored")]
        found = integrity.verify(s)
        assert found.problems == [] and found.head == (4, events[-1].hash)
        audit.record(s, None, "new.event", summary="After the migration")
        s.commit()
        assert integrity.verify(s).problems == []
    for statement in ("UPDATE audit_event SET summary = 'x'", "DELETE FROM audit_event"):
        with engine.connect() as conn, pytest.raises(Exception, match="append-only"):
            conn.execute(text(statement))
    command.downgrade(db.alembic_config(engine), "0005")
    with engine.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("DELETE FROM audit_event"))
    db.migrate(engine)
    with Session(engine) as s:
        assert integrity.verify(s).problems == []


def test_an_export_claiming_more_approvals_than_there_are_is_reported_however_it_is_written(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, frozen: Frozen) -> None:
    """An edition's format names its approvals ("csv.1"). Someone with the database edits it: more
    approvals than there are is reported, and digits Python reads as digits but int() refuses ("²")
    are reported too, never a crash of `codesign verify`."""
    version_id = frozen.version.id
    assert integrity.export_problems(session, frozen.version) == []
    for claimed, reported in (("csv.5", "is the edition with 5 approvals, but the version has 1"), ("csv.²", "")):
        as_owner(engine, "UPDATE framework_export SET format = :fmt WHERE id = :id",
                 tables=("framework_export",), params={"fmt": claimed, "id": frozen.export.id})
        session.expire_all()
        version = session.get(type(frozen.version), version_id)
        assert version is not None
        problems = integrity.export_problems(session, version)  # the "²" made int() raise here before
        assert problems, claimed
        assert reported in " ".join(p.message for p in problems)
