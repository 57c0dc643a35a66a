"""Small helpers shared by the voting-round tests (services and HTTP)."""

from __future__ import annotations

import html
import re

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from codesign import db
from codesign.models import Outcome, OutcomeStatus, Round, User, WorkshopSession
from codesign.services import rounds
from codesign.services.demo import DemoInfo, seed_demo


def accepted_ids(db: Session, workshop: WorkshopSession, n: int | None = None) -> list[int]:
    """Ids of the session's accepted outcomes (the diabetes template preloads 23), lowest first."""
    ids = [o.id for o in db.exec(select(Outcome).where(
        Outcome.population_group_id == workshop.population_group_id,
        Outcome.status == OutcomeStatus.accepted).order_by(col(Outcome.id)))]
    return [i for i in ids if i is not None][:n]


def round_form(outcome_ids: list[int], **overrides: str) -> dict[str, str]:
    """The round form as the page posts it (outcomes joined by commas, as the route does)."""
    form = {"title": "How important is each outcome?", "method": "rating", "combine": "weighted", "top_k": "5",
            "budget": "10", "max_per_outcome": "", "in_min": "70", "in_max_low": "15", "out_min": "70",
            "out_max_high": "15", "min_group_size": "5", "outcomes": ",".join(str(i) for i in outcome_ids)}
    form.update(overrides)
    return form


def open_round(db: Session, actor: User, workshop: WorkshopSession, outcome_ids: list[int],
               **overrides: str) -> Round:
    assert workshop.id is not None
    made = rounds.create_round(db, actor, workshop.id, round_form(outcome_ids, **overrides))
    assert made.id is not None
    return rounds.open_round(db, actor, workshop.id, made.id, acknowledge_small=True)


def load_demo(engine: Engine) -> DemoInfo:
    """Seed as `codesign seed-demo` does (one write session), rather than through the tests'
    commit-on-every-query session, which would make the demo tests several times slower."""
    with db.write_session(engine) as writer:
        return seed_demo(writer)


QUESTION_HEADING = re.compile(r'<h1 class="nhsuk-fieldset__heading[^"]*"[^>]*>(.*?)</h1>', re.S)


def shown_outcome(db: Session, page: str) -> int:
    """The id of the outcome a rating question page shows (people see their own order, so
    question n is not the n-th outcome of the round)."""
    found = QUESTION_HEADING.search(page)
    assert found, page[:500]
    statement = html.unescape(found.group(1).strip())
    outcome = db.exec(select(Outcome).where(Outcome.statement == statement)).first()
    assert outcome is not None and outcome.id is not None, statement
    return outcome.id
