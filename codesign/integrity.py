"""Tamper checks: the audit hash chain, frozen versions, approvals and stored exports.

The database refuses changes to all of these (triggers), but its owner can lift a trigger. These
checks catch what such a person changes: every frozen snapshot must match its SHA-256 and the
SHA-256 recorded, in the chained audit log, when it was frozen; every approval and stored export
must match its audit event; the chain must be unbroken up to its head.

`codesign verify` runs every registered check; the version page runs one version's. To add a check,
write one function taking (db, found) and decorate it with @check: it reports with
`found.problem(subject, message)` and says what it looked at with `found.checked(what, n)`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from codesign.audit_chain import GENESIS, event_hash, fields_of
from codesign.errors import Conflict, NotFound, TamperingDetected
from codesign.export._signoff import edition as _signoff_edition
from codesign.export.canonical import snapshot_sha256
from codesign.models import (
    AuditChainHead,
    AuditEvent,
    FrameworkApproval,
    FrameworkExport,
    FrameworkVersion,
    Round,
    RoundStatus,
    User,
    VersionStatus,
)

FROZEN, APPROVED, EXPORT_STORED = "framework.frozen", "framework.approved", "framework.export_stored"
HEAD_ID = 1


@dataclass(frozen=True)
class Problem:
    subject: str  # what is wrong, with its ids: "audit_event seq 41 (id 41)"
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


@dataclass
class Findings:
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # what was checked, in the order checked
    head: tuple[int, str] | None = None  # the chain head: newest seq and its hash

    def problem(self, subject: str, message: str) -> None:
        self.problems.append(Problem(subject, message))

    def checked(self, what: str, n: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


Check = Callable[[Session, Findings], None]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    """Register `fn` with `codesign verify`."""
    CHECKS.append(fn)
    return fn


def verify(db: Session, *, kept_head: tuple[int, str] | None = None) -> Findings:
    """Run every check. `kept_head` is a (seq, hash) an auditor noted earlier: the chain must still
    hold that event with that hash (which catches a rewritten chain whose head was rewritten too)."""
    found = Findings()
    for fn in CHECKS:
        fn(db, found)
    if kept_head is not None:
        seq, digest = kept_head
        kept = db.exec(select(AuditEvent).where(AuditEvent.seq == seq)).first()
        if kept is None:
            found.problem(f"audit_event seq {seq}", "the event you kept the hash of is missing")
        elif kept.hash != digest:
            found.problem(_event(kept), f"its hash is {kept.hash}, not the {digest} you kept: the chain was rewritten")
    return found


# ---- the audit chain ------------------------------------------------------------------------


def _event(e: AuditEvent) -> str:
    return f"audit_event seq {e.seq} (id {e.id})"


def _own_hash_ok(e: AuditEvent) -> bool:
    return e.seq is not None and e.hash == event_hash(e.seq, e.prev_hash or "", fields_of(e))


def _seqs(first: int, last: int) -> str:
    return f"audit_event seq {first}" if first == last else f"audit_event seq {first} to {last}"


@check
def audit_chain(db: Session, found: Findings) -> None:
    """Continuity (1, 2, 3...), each event's hash, each link, and the head."""
    prev_seq, prev_hash, n = 0, GENESIS, 0
    for e in db.exec(select(AuditEvent).where(col(AuditEvent.seq).is_not(None)).order_by(col(AuditEvent.seq))
                     .execution_options(yield_per=500)):
        n += 1
        seq = int(e.seq or 0)
        if seq == prev_seq:
            found.problem(_event(e), f"a second event with sequence number {seq}")
            continue
        if seq > prev_seq + 1:
            found.problem(_seqs(prev_seq + 1, seq - 1), "missing from the chain (deleted)")
        elif e.prev_hash != prev_hash:
            found.problem(_event(e), "does not link to the event before it (its previous hash differs): "
                                     "an event before it was changed, removed or reordered")
        if not _own_hash_ok(e):
            found.problem(_event(e), "hash does not match its contents (the event was changed)")
        prev_seq, prev_hash = seq, e.hash or ""
    for e in db.exec(select(AuditEvent).where(col(AuditEvent.seq).is_(None)).order_by(col(AuditEvent.id))):
        n += 1
        found.problem(f"audit_event id {e.id}", "not in the chain (no sequence number): added behind the app's back")
    found.checked("audit events", n)
    head = db.get(AuditChainHead, HEAD_ID)
    if head is None:
        found.problem("audit chain head", "missing")
        return
    found.head = (head.seq, head.hash)
    if head.seq > prev_seq:
        found.problem(_seqs(prev_seq + 1, head.seq),
                      f"missing: the chain head names seq {head.seq} but the newest event is seq {prev_seq} "
                      "(the newest events were deleted)")
    elif head.seq < prev_seq:
        found.problem("audit chain head", f"names seq {head.seq} but the chain goes on to seq {prev_seq}")
    elif head.hash != prev_hash:
        found.problem("audit chain head", f"its hash does not match event seq {prev_seq}'s")


def anchor_problems(db: Session, events: Iterable[AuditEvent]) -> list[Problem]:
    """The chain around a few events only (the version page): each one's own hash, its links to
    its neighbours, and that the head has not been wound back past it."""
    problems: list[Problem] = []
    head = db.get(AuditChainHead, HEAD_ID)
    for e in events:
        seq = int(e.seq or 0)
        if e.seq is None or not _own_hash_ok(e):
            problems.append(Problem(_event(e), "hash does not match its contents (the event was changed)"))
            continue
        before = db.exec(select(AuditEvent).where(AuditEvent.seq == seq - 1)).first()
        after = db.exec(select(AuditEvent).where(AuditEvent.seq == seq + 1)).first()
        if (before.hash if before else GENESIS if seq == 1 else None) != e.prev_hash:
            problems.append(Problem(_event(e), "does not link to the event before it"))
        if after is not None and after.prev_hash != e.hash:
            problems.append(Problem(_event(e), "the event after it does not link to it"))
        if head is None or head.seq < seq:
            problems.append(Problem(_event(e), "lies beyond the chain head (the head was wound back)"))
    return problems


# ---- frozen versions, approvals, exports ----------------------------------------------------


def _details(e: AuditEvent) -> dict[str, Any]:
    try:
        details = json.loads(e.details or "{}")
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}


def _audited(db: Session, version_id: int, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.object_type ==
                                                  "framework_version", AuditEvent.object_id == version_id)
                        .order_by(col(AuditEvent.seq))))


def _version(v: FrameworkVersion) -> str:
    return f"framework_version {v.id} (version {v.number})"


def snapshot_problems(db: Session, v: FrameworkVersion) -> list[Problem]:
    """The snapshot matches its SHA-256, which matches the one audited when it was frozen."""
    frozen = _audited(db, v.id or 0, FROZEN)
    if v.status != VersionStatus.frozen:
        return [Problem(_version(v), f"was frozen ({_event(e)}) but is now a {v.status}") for e in frozen[:1]]
    problems: list[Problem] = []
    try:
        actual = snapshot_sha256(json.loads(v.snapshot_json or ""))
    except ValueError:
        actual = None
    if actual != v.sha256:
        problems.append(Problem(_version(v), "its snapshot does not match its SHA-256 (the snapshot was changed)"))
    if not frozen:
        problems.append(Problem(_version(v), "no audit event records its freezing and SHA-256"))
    for e in frozen:
        if _details(e).get("sha256") != v.sha256:
            problems.append(Problem(_version(v), f"its SHA-256 differs from the one recorded when it was frozen "
                                                 f"({_event(e)})"))
    return problems


def approval_problems(db: Session, v: FrameworkVersion) -> list[Problem]:
    """Each approval matches an audited approval of this version, and each audited approval is there."""
    rows = list(db.exec(select(FrameworkApproval).where(FrameworkApproval.version_id == v.id)))
    events = _audited(db, v.id or 0, APPROVED)
    problems: list[Problem] = []
    for a in rows:
        subject = f"framework_approval {a.id} (version id {a.version_id}, user {a.user_id})"
        matching = [e for e in events if e.actor_id == a.user_id]
        if not matching:
            problems.append(Problem(subject, "no audit event records this approval"))
        elif _details(matching[0]).get("note", "") != a.note:
            problems.append(Problem(subject, f"its note differs from the audited one ({_event(matching[0])})"))
        elif _details(matching[0]).get("sha256") != v.sha256:
            problems.append(Problem(subject, f"approved another SHA-256 ({_event(matching[0])})"))
    users = {a.user_id for a in rows}
    for e in events:
        if e.actor_id not in users:
            problems.append(Problem(f"framework_approval of version id {v.id} by user {e.actor_id}",
                                    f"audited ({_event(e)}) but missing from the database"))
    return problems


def _export(x: FrameworkExport) -> str:
    return f"framework_export {x.id} (version id {x.version_id}, {x.format})"


def export_row_problems(x: FrameworkExport, v: FrameworkVersion | None, events: list[AuditEvent]) -> list[Problem]:
    """One stored export: its bytes match its SHA-256, which matches the audited one."""
    problems: list[Problem] = []
    # SQLite keeps whatever type is written: an owner's edit can leave text where bytes were.
    content = x.content if isinstance(x.content, bytes) else str(x.content).encode("utf-8")
    if hashlib.sha256(content).hexdigest() != x.sha256:
        problems.append(Problem(_export(x), "its content does not match its stored SHA-256 (the file was changed)"))
    audited = [e for e in events if _details(e).get("format") == x.format]
    if not audited:
        problems.append(Problem(_export(x), "no audit event records its SHA-256"))
    elif _details(audited[0]).get("sha256") != x.sha256:
        problems.append(Problem(_export(x), f"its stored SHA-256 differs from the audited one ({_event(audited[0])})"))
    if v is None or v.status != VersionStatus.frozen:
        problems.append(Problem(_export(x), "belongs to a version that is not frozen"))
    return problems


def export_problems(db: Session, v: FrameworkVersion, *, fmt: str | None = None) -> list[Problem]:
    """A version's stored exports (or its one export in `fmt`), and any audited one since deleted."""
    stmt = select(FrameworkExport).where(FrameworkExport.version_id == v.id)
    rows = list(db.exec(stmt if fmt is None else stmt.where(FrameworkExport.format == fmt)))
    events = _audited(db, v.id or 0, EXPORT_STORED)
    problems = [p for x in rows for p in export_row_problems(x, v, events)]
    approved = db.exec(select(func.count()).select_from(FrameworkApproval)
                       .where(FrameworkApproval.version_id == v.id)).one()
    for x in rows:  # an edition names its approvers: never more than there are
        claimed = x.format.partition(".")[2]
        if claimed.isascii() and claimed.isdigit() and int(claimed) > approved:  # "²" is a digit int() refuses
            problems.append(Problem(_export(x), f"is the edition with {claimed} approvals, but the version has "
                                                f"{approved}"))
    stored = {x.format for x in rows}
    for e in events:
        kind = _details(e).get("format")
        if kind not in stored and (fmt is None or kind == fmt):
            problems.append(Problem(f"framework_export of version id {v.id} ({kind})",
                                    f"audited ({_event(e)}) but missing from the database"))
    return problems


def _checked_versions(db: Session) -> list[FrameworkVersion]:
    """Frozen versions, and any version an audit event says was frozen, approved or exported."""
    audited = select(AuditEvent.object_id).where(AuditEvent.object_type == "framework_version",
                                                 col(AuditEvent.action).in_((FROZEN, APPROVED, EXPORT_STORED)))
    return list(db.exec(select(FrameworkVersion).where(or_(
        col(FrameworkVersion.status) == VersionStatus.frozen, col(FrameworkVersion.id).in_(audited)))
        .order_by(col(FrameworkVersion.id))))


@check
def frozen_versions(db: Session, found: Findings) -> None:
    versions = _checked_versions(db)
    for v in versions:
        for p in snapshot_problems(db, v):
            found.problems.append(p)
    found.checked("frozen versions", sum(v.status == VersionStatus.frozen for v in versions))
    known = {v.id for v in versions}
    for e in db.exec(select(AuditEvent).where(AuditEvent.action == FROZEN)):
        if e.object_id not in known:
            found.problem(f"framework_version {e.object_id}", f"frozen ({_event(e)}) but missing from the database")


@check
def approvals(db: Session, found: Findings) -> None:
    for v in _checked_versions(db):
        found.problems.extend(approval_problems(db, v))
    orphans = db.exec(select(FrameworkApproval).join(
        FrameworkVersion, col(FrameworkApproval.version_id) == col(FrameworkVersion.id), isouter=True)
        .where(col(FrameworkVersion.status).is_distinct_from(VersionStatus.frozen)))
    for a in orphans:
        found.problem(f"framework_approval {a.id} (version id {a.version_id}, user {a.user_id})",
                      "approves a version that is not frozen")
    found.checked("approvals", db.exec(select(func.count()).select_from(FrameworkApproval)).one())


@check
def stored_exports(db: Session, found: Findings) -> None:
    versions = _checked_versions(db)
    for v in versions:
        found.problems.extend(export_problems(db, v))
    others = select(FrameworkExport).where(col(FrameworkExport.version_id).not_in([v.id for v in versions]))
    for x in db.exec(others.order_by(col(FrameworkExport.id))):
        found.problems.extend(export_row_problems(x, db.get(FrameworkVersion, x.version_id), []))
    found.checked("stored exports", db.exec(select(func.count()).select_from(FrameworkExport)).one())


@check
def closed_rounds(db: Session, found: Findings) -> None:
    """A closed round's stored results: their own SHA-256, the one audited at close, and a recount
    of the ballots (with the wording they were counted with) must all agree."""
    from codesign.export.canonical import canonical_json
    from codesign.queries.rounds import count_round, stored_document

    rounds = db.exec(select(Round).where(Round.status == RoundStatus.closed).order_by(col(Round.id))).all()
    unstored = 0
    for r in rounds:
        subject = f"voting_round {r.id} (round {r.number} of session {r.session_id})"
        if r.results_json is None:
            unstored += 1  # closed before results were kept: nothing stored to check
            continue
        if hashlib.sha256(r.results_json.encode("utf-8")).hexdigest() != r.results_sha256:
            found.problem(subject, "stored results do not match their SHA-256 (the results were changed)")
        closes = db.exec(select(AuditEvent).where(AuditEvent.action == "round.closed", AuditEvent.object_id == r.id,
                                                  AuditEvent.object_type == "round").order_by(col(AuditEvent.id)))
        audited = [_details(e).get("results_sha256") for e in closes]
        if not audited or audited[-1] != r.results_sha256:
            found.problem(subject, "stored results differ from those recorded in the audit log when it closed")
        stored = json.loads(r.results_json)
        recount = json.loads(canonical_json(stored_document(count_round(db, r, stored.get("labels")))))
        if {k: v for k, v in recount.items() if k != "labels"} != {k: v for k, v in stored.items() if k != "labels"}:
            found.problem(subject, "its ballots no longer give the stored results "
                                   "(a ballot was changed, added or removed after the close)")
    found.checked("closed rounds", len(rounds) - unstored)


def verify_version(db: Session, version_id: int) -> list[Problem]:
    """One version's checks, for its page: snapshot, approvals, exports and the events anchoring them."""
    v = db.get(FrameworkVersion, version_id)
    if v is None:
        return []
    anchors = [e for action in (FROZEN, APPROVED, EXPORT_STORED) for e in _audited(db, version_id, action)]
    if v.status != VersionStatus.frozen and not anchors:
        return []
    return [*snapshot_problems(db, v), *approval_problems(db, v), *export_problems(db, v),
            *anchor_problems(db, anchors)]


@dataclass(frozen=True)
class Download:
    version: FrameworkVersion
    stored: FrameworkExport | None  # None: not stored yet, so render it from the snapshot
    edition: str = ""  # the stored name: the format, then ".N" once N people have approved (export/_signoff)
    approvals: tuple[dict[str, Any], ...] = ()  # {name, role, at, note} for the sign-off part


def approvals_of(db: Session, version_id: int) -> tuple[dict[str, Any], ...]:
    rows = db.exec(select(FrameworkApproval, User).join(User, col(FrameworkApproval.user_id) == col(User.id))
                   .where(FrameworkApproval.version_id == version_id).order_by(col(FrameworkApproval.id)))
    return tuple({"name": u.name or u.email, "role": u.role, "note": a.note,
                  "at": a.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")} for a, u in rows)


def checked_download(db: Session, version_id: int, fmt: str) -> Download:
    """What to serve for a download, once the snapshot, its approvals and the stored file pass their
    checks. Each stored file is an edition for the approvals there were when it was made, so a copy
    made before approval is never served as the approved one."""
    v = db.get(FrameworkVersion, version_id)
    if v is None:
        raise NotFound("No such framework version")
    if v.status != VersionStatus.frozen or not v.snapshot_json or not v.sha256:
        raise Conflict("Only a frozen version can be exported. Freeze it first.")
    approvals = approvals_of(db, version_id)
    edition = _signoff_edition(fmt, len(approvals))
    problems = [*snapshot_problems(db, v), *approval_problems(db, v), *export_problems(db, v, fmt=edition)]
    if problems:
        raise TamperingDetected(problems)
    stored = db.exec(select(FrameworkExport).where(FrameworkExport.version_id == version_id,
                                                   FrameworkExport.format == edition)).first()
    return Download(v, stored, edition, approvals)


# Pooled rounds' check lives beside this module (it keeps this one short); importing it registers it.
from codesign import integrity_pooled as _integrity_pooled  # noqa: E402,F401
