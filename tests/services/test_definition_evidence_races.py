"""A definition saved while "Use this as the baseline" runs on it: the save is never lost.

The fill reads the definition, works out the comparison, then writes the definition back with the
baseline filled in. A save landing in between would be overwritten with the definition as it was
before, unless the fill holds the row from its read to its commit (PostgreSQL: SELECT ... FOR
UPDATE; SQLite's writers take turns anyway). Run on PostgreSQL with tests/with_postgres.sh."""

from __future__ import annotations

import json
import threading
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from codesign import db, queries
from codesign.models import ShortlistItem, User
from codesign.services import definition_evidence, evidence, shortlist
from tests.evidence_helpers import data_file, peer_file
from tests.framework_helpers import COMPLETE, ready_draft

FORM = {**COMPLETE, "evidence_indicator": "90001", "evidence_area": "A", "target-0": "", "target-1": "",
        "target-2": "", "rag_green": "75", "rag_amber": "65"}
ROUNDS = 8


def test_a_save_racing_a_baseline_fill_is_never_lost(engine: Engine, session: Session, facilitator: User,  # type: ignore[no-untyped-def]
                                                     workshop: Any) -> None:
    version, _round = ready_draft(session, facilitator, workshop)
    evidence.import_indicators(session, facilitator, data_file(), "data.csv")
    evidence.import_peers(session, facilitator, peer_file("A", [f"P{i:02}" for i in range(10)]), "peers.csv")
    item_id = queries.get_version_view(session, version.id).items[0].item.id
    actor_id, version_id = facilitator.id, version.id  # the fixture's objects stay in the test's thread
    shortlist.save_definition(session, facilitator, version.id, item_id, FORM)
    failures: list[BaseException] = []

    def run(work: Any, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=60)  # before the session: SQLite's writers queue for one
            with db.write_session(engine) as s:
                work(s, s.get(User, actor_id))
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    for n in range(ROUNDS):
        barrier = threading.Barrier(2)
        rationale = f"Agreed at board meeting {n}"
        threads = [
            threading.Thread(target=run, args=(lambda s, a: definition_evidence.use_evidence_baseline(
                s, a, version_id, item_id), barrier)),
            threading.Thread(target=run, args=(lambda s, a, r=rationale: shortlist.save_definition(
                s, a, version_id, item_id, {**FORM, "rationale": r}), barrier)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert failures == []
        item = session.get(ShortlistItem, item_id)
        assert item is not None
        session.refresh(item)
        assert json.loads(item.definition_json)["rationale"] == rationale, f"round {n}: the save was lost"
