"""Two definitions saved at once with the same indicator code (two commissioners, two tabs): each in
its own transaction and thread. Meaningful on PostgreSQL (tests/with_postgres.sh), where they really
overlap; on SQLite the write lock queues them and the same result must hold."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from codesign import queries
from codesign.errors import ValidationFailed
from codesign.models import User
from codesign.services import shortlist
from tests.framework_helpers import COMPLETE, ready_draft
from tests.services.test_undo_races import all_at_once


def test_the_same_code_saved_for_several_outcomes_at_once_is_taken_once(  # type: ignore[no-untyped-def]
        engine: Engine, session: Session, facilitator: User, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    view = queries.get_version_view(session, version.id)
    items = [v.item.id for v in view.items + view.excluded]  # every shortlist row has a code
    version_id, user_id = version.id, facilitator.id
    session.close()

    def save(item_id: int, code: str) -> Any:
        def attempt(s: Session) -> Any:
            return shortlist.save_definition(s, s.get_one(User, user_id), version_id, item_id,
                                             {**COMPLETE, "indicator_code": code})
        return attempt

    for code in ("DIAB-77", "DIAB-78", "DIAB-79"):
        results = all_at_once([save(i, code) for i in items], engine)
        refused = [r for r in results if isinstance(r, ValidationFailed)]
        assert all("indicator_code" in r.errors for r in refused), results
        assert sum(isinstance(r, list) for r in results) == 1 and len(refused) == len(items) - 1, results
        with Session(engine) as s:
            view = queries.get_version_view(s, version_id)
            assert [v.definition["indicator_code"] for v in view.items + view.excluded].count(code) == 1
