"""Honest wording (issue 12, section 3): the public page says where each outcome came from, and the
compare view shows targets as a table by year."""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import Session
from starlette.testclient import TestClient

from codesign import queries
from codesign.contract.diff import target_table
from codesign.library import library_wording
from codesign.models import FrameworkVersion, User
from codesign.services import framework_versions, proposals, sessions, shortlist
from tests.conftest import sign_in
from tests.framework_helpers import COMPLETE, ready_draft

ROOT = Path(__file__).resolve().parents[2]


def test_the_public_page_says_where_each_outcome_came_from(client: TestClient, other_client: TestClient,  # type: ignore[no-untyped-def]
                                                            session: Session, facilitator: User, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    carer = sessions.join_session(session, workshop.id, "carer")
    proposed = proposals.propose_outcome(session, workshop.id, carer.id, "I can get help at night")
    proposals.accept_outcome(session, facilitator, workshop.id, proposed.id or 0)
    added = proposals.add_outcome(session, facilitator, workshop.id, "My medicines are reviewed every year")
    for outcome in (proposed, added):
        item = shortlist.add_outcome(session, facilitator, version.id, outcome.id or 0, "Board minute 3")
        shortlist.save_definition(session, facilitator, version.id, item.id or 0, COMPLETE)
    items = queries.get_version_view(session, version.id).items
    shortlist.save_weights(session, facilitator, version.id, {i.item.id or 0: "25" for i in items})
    frozen = framework_versions.freeze(session, facilitator, version.id)
    page = other_client.get(f"/p/{frozen.public_token}").text
    assert "“I can get help at night”, proposed by a participant from the Carers group" in page
    assert "“My medicines are reviewed every year”, added by the facilitator" in page
    library = [i.outcome.statement for i in items if i.outcome.id not in (proposed.id, added.id)]
    wording = library_wording("adults-with-diabetes")
    assert library and all(f"“{statement}”, {wording[statement]}" in page for statement in library)
    assert "agreed nationally" not in page


def test_library_outcomes_are_attributed_only_as_far_as_the_library_records() -> None:
    wording = library_wording("adults-with-diabetes")
    assert wording["My blood sugar stays in a safe range over time"] == (
        "from the codesign library, after the ICHOM standard set")
    others = [w for w in wording.values() if w != "from the codesign library, after the ICHOM standard set"]
    assert others and all(w.startswith("from the codesign library (") and "ICHOM" not in w for w in others)
    assert library_wording("no-such-template") == {}


def test_nothing_in_the_app_says_agreed_nationally() -> None:
    found = [str(p.relative_to(ROOT)) for folder in ("codesign", "templates", "seed") for p in (ROOT / folder).rglob("*")
             if p.is_file() and p.suffix in {".py", ".html", ".json", ".md", ".txt"}
             and "agreed nationally" in p.read_text(encoding="utf-8", errors="ignore").lower()]
    assert found == []


def test_the_compare_view_shows_targets_as_a_table_by_year(client: TestClient, session: Session,  # type: ignore[no-untyped-def]
                                                           facilitator: User, workshop) -> None:
    version, _ = ready_draft(session, facilitator, workshop)
    framework_versions.freeze(session, facilitator, version.id)
    draft = framework_versions.new_draft_from(session, facilitator, version.id)
    items = queries.get_version_view(session, draft.id).items
    shortlist.save_definition(session, facilitator, draft.id, items[0].item.id or 0,
                              {**COMPLETE, "indicator_name": items[0].outcome.statement[:50], "target-2": "52",
                               "rag_green": "52"})
    sign_in(client, facilitator)
    page = client.get(f"/frameworks/{draft.id}/compare?with={version.id}").text
    table = page[page.index('<table class="nhsuk-table app-compare-targets">'):]
    table = table[:table.index("</table>")]
    headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', table)
    assert headers == ["Outcome", "2026/27", "2027/28", "2028/29"]
    rows = table.split('<tr class="nhsuk-table__row"><th scope="row"')[1:]
    assert len(rows) == 2
    changed, same = rows
    assert items[0].outcome.statement in changed and "(%)" in changed
    assert re.search(r"<del[^>]*>.*50</del> <ins[^>]*>.*52</ins>", changed)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", same)] == ["40", "45", "50"]
    # The run-on "Targets" line is gone from the list of changes; the other changes stay there.
    changes = page[:page.index('id="targets"')]
    assert "Targets" not in changes and "Green at or better than" in changes


def test_target_table_keeps_removed_outcomes_and_years() -> None:
    def snap(outcomes: list[tuple[int, str, dict[str, str]]], years: list[str]) -> dict[str, object]:
        return {"payment": {"years": [{"label": y} for y in years]},
                "outcomes": [{"outcome_id": i, "statement": s, "definition": {
                    "unit": "count", "targets": [{"year": y, "value": v} for y, v in t.items()]}}
                    for i, s, t in outcomes]}

    old = snap([(1, "Falls", {"A": "10", "B": "8"}), (2, "Pain", {"A": "3"})], ["A", "B"])
    new = snap([(1, "Falls", {"B": "7", "C": "6"})], ["B", "C"])
    table = target_table(old, new)
    assert table.years == ["B", "C", "A"]
    assert [r.statement for r in table.rows] == ["Falls", "Pain"]
    assert [(c.before, c.after) for c in table.rows[0].cells] == [("8", "7"), ("", "6"), ("10", "")]
    assert [(c.before, c.after) for c in table.rows[1].cells] == [("", ""), ("", ""), ("3", "")]
    assert table.rows[0].unit == "count" and table.changed


def test_frozen_version_is_unchanged_by_the_wording(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    # The public page reads the stored snapshot: wording is the template's, never stored in it.
    version, _ = ready_draft(session, facilitator, workshop)
    frozen = framework_versions.freeze(session, facilitator, version.id)
    stored = session.get(FrameworkVersion, frozen.id)
    assert stored is not None and "agreed nationally" not in (stored.snapshot_json or "")
