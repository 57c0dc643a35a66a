"""`codesign verify`'s check of pooled rounds (services.pooled), registered with codesign.integrity."""

from __future__ import annotations

import hashlib
import json

from sqlmodel import Session, col, select

from codesign.integrity import Findings, _details, check
from codesign.models import AuditEvent, PanelRound


@check
def pooled_rounds(db: Session, found: Findings) -> None:
    """A pooled round's stored results (services.pooled), checked as a closed round's are: their own
    SHA-256, the one audited when counted, and a recount of every member round's ballots."""
    from codesign.export.canonical import canonical_json
    from codesign.queries.pooled import count_pooled, member_rounds
    from codesign.queries.rounds import stored_document

    pooled = db.exec(select(PanelRound).where(col(PanelRound.results_json).is_not(None))
                     .order_by(col(PanelRound.id))).all()
    for p in pooled:
        subject = f"panel_round {p.id} (pooled round {p.number} of panel {p.panel_id})"
        assert p.results_json is not None
        if hashlib.sha256(p.results_json.encode("utf-8")).hexdigest() != p.results_sha256:
            found.problem(subject, "stored results do not match their SHA-256 (the results were changed)")
        counts = db.exec(select(AuditEvent).where(AuditEvent.action == "panel_round.counted",
                                                  AuditEvent.object_type == "panel_round",
                                                  AuditEvent.object_id == p.id).order_by(col(AuditEvent.id)))
        audited = [_details(e).get("results_sha256") for e in counts]
        if not audited or audited[-1] != p.results_sha256:
            found.problem(subject, "stored results differ from those recorded in the audit log when counted")
        stored = json.loads(p.results_json)
        members = member_rounds(db, p.id or 0)
        if not members:
            found.problem(subject, "its member rounds are gone")
            continue
        view, given = count_pooled(db, members, stored.get("labels"))
        recount = json.loads(canonical_json(stored_document(view)))
        kept = {k: v for k, v in stored.items() if k in recount and k != "labels"}
        if {k: v for k, v in recount.items() if k != "labels"} != kept or \
                {str(k): v for k, v in given.items()} != stored.get("pooled_ballots"):
            found.problem(subject, "its member rounds' ballots no longer give the stored pooled results")
    found.checked("pooled rounds", len(pooled))
