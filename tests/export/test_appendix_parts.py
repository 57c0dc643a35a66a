"""Appendix A's three parts in the DOCX: a schedule of at most one page per indicator, a co-design
annex that answers all 18 COS-STAR items, and a sign-off that says who froze and who approved."""

from __future__ import annotations

import io
import itertools
import json
import re
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from pypdf import PdfReader

from codesign.export import _cosstar, _schedule, export
from codesign.export._annex import build_annex
from codesign.export._signoff import SIGN_OFF, approval_line, edition, with_sign_off
from tests.export.snapshots import example, large, with_hash

APPROVAL = {"name": "Dr Ada Approver", "role": "commissioner", "at": "2026-11-23T09:30:00Z", "note": "Board agreed"}
# A4 with 2 cm margins: about 62 lines of 8.5 pt table text; the label column holds about 38
# characters a line, the value column about 75 (estimated from the column widths: a proxy for layout).
PAGE_LINES, HEADING_LINES, LABEL_CHARS, VALUE_CHARS = 62, 3, 38, 75


def page_lines(table: Any) -> int:
    """Lines the two-column table takes: each row as tall as its taller cell."""
    total = 0
    for row in table.rows:
        label, value = row.cells[0].text, row.cells[1].text
        total += max(sum(-(-max(len(line), 1) // LABEL_CHARS) for line in label.split("\n")),
                     sum(-(-max(len(line), 1) // VALUE_CHARS) for line in value.split("\n")))
    return total


def render(snapshot: dict[str, Any], sha: str, fmt: str = "docx") -> bytes:
    buf = io.BytesIO()
    export(snapshot, sha, fmt, buf)
    return buf.getvalue()


def text_of(document: Any) -> str:
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def demo_like() -> tuple[Any, str]:
    snapshot, sha = with_hash(example())
    document = docx.Document(io.BytesIO(render(snapshot, sha)))
    return document, text_of(document)


def test_all_18_cos_star_items_are_listed_and_each_is_in_the_docx(demo_like: tuple[Any, str]) -> None:
    assert sorted({re.match(r"\d+", n).group(0) for n, _t, _w in _cosstar.ITEMS}, key=int) == list(_cosstar.NUMBERS)  # type: ignore[union-attr]
    assert len(_cosstar.NUMBERS) == 18
    _, text = demo_like
    for number, topic, wording in _cosstar.ITEMS:
        assert f"{number}. {topic}" in text, number
        assert wording in text, number
    assert "PLoS Med 2016;13(10):e1002148" in text
    # What the workshops do not record is answered from the version's report fields.
    report = example()["framework"]["report"]
    for key in ("protocol_reference", "ethics_consent", "funding", "eligibility", "limitations"):
        assert report[key] in text, key
    assert "Two clinicians work for the incumbent provider." in text


def test_the_annex_reports_every_outcome_considered_and_every_stage(demo_like: tuple[Any, str]) -> None:
    document, text = demo_like
    fates = {r.cells[0].text: r.cells[1].text for t in document.tables
             if [c.text for c in t.rows[0].cells] == ["Outcome", "Fate", "Reason"] for r in t.rows[1:]}
    assert fates["Fewer foot problems"] == "Merged into “No foot ulcers or amputations”"
    assert fates["Shorter waiting times"] == "Withdrawn"
    assert fates["Lower HbA1c"] == "Dropped by vote"
    assert fates[example()["outcomes"][1]["statement"]].startswith("Added to the framework against the vote; reworded")
    stages = next(t for t in document.tables if t.rows[0].cells[0].text == "Stage")
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in stages.rows[1:]}
    assert rows["Proposing outcomes: Workshop 1: what matters"] == ["6", "8", "Fewer than 5", "12"]
    assert any(k.startswith("Round 2") and k.endswith("(the shortlist was built from it)") for k in rows)
    assert "does not record their age, sex, ethnicity" in text


def test_the_schedule_has_one_page_per_indicator() -> None:
    snapshot, sha = with_hash(large(40))
    document = docx.Document(io.BytesIO(render(snapshot, sha)))
    body = document.element.body
    breaks = [p for p in body.iter(qn("w:p")) if p.find(f"{qn('w:pPr')}/{qn('w:pageBreakBefore')}") is not None]
    headings = [p for p in document.paragraphs if p.style.name == "Heading 2"
                and re.match(r"DIAB-\d\d: ", p.text)]
    # Each of the 40 specifications starts a page, and so do the annex and the sign-off: nothing else does.
    assert len(headings) == 40 and len(breaks) == 42
    specs = [t for t in document.tables if t.rows[0].cells[0].text == "Specification"]
    assert len(specs) == 40
    # Between two specification headings: the specification and its by-year table, nothing else (the
    # vote tables are in the annex), and their lines fit a page.
    elements = list(body.iterchildren())
    starts = [elements.index(h._p) for h in headings]
    for start, end in itertools.pairwise(starts):
        assert [e.tag for e in elements[start + 1:end]].count(qn("w:tbl")) == 2
    by_year = [t for t in document.tables if t.rows[0].cells[0].text == "Contract year"
               and t.rows[0].cells[1].text == "Target"]
    for spec, years in zip(specs, by_year, strict=True):
        assert len(spec.rows) - 1 <= _schedule.MAX_ROWS
        assert page_lines(spec) + len(years.rows) + HEADING_LINES <= PAGE_LINES
    text = text_of(document)
    assert "How each group voted" in text  # once, in the annex
    assert sum(p.text == "How each group voted" for p in document.paragraphs) == 1


def test_sign_off_before_and_after_approval() -> None:
    snapshot, sha = with_hash(example())
    frozen_only = text_of(docx.Document(io.BytesIO(render(with_sign_off(snapshot, []), sha))))
    assert "Not yet approved when this copy was made" in frozen_only
    assert "Demo commissioner" in frozen_only and "22 November 2026" in frozen_only
    approved = docx.Document(io.BytesIO(render(with_sign_off(snapshot, [APPROVAL]), sha)))
    rows = [[c.text for c in r.cells] for t in approved.tables if t.rows[0].cells[0].text == "Approved by"
            for r in t.rows[1:]]
    assert rows == [["Dr Ada Approver", "Commissioner", "23 November 2026 at 09:30 UTC", "Board agreed"]]
    signatures = next(t for t in approved.tables if t.rows[0].cells[0].text == "Party")
    assert [[c.text for c in r.cells][:2] for r in signatures.rows[1:]] == [
        ["Commissioner", "Example Integrated Care Board"], ["Provider", "Example Community Diabetes Partnership"]]
    # The approval sits beside the snapshot: the fingerprint and the JSON's snapshot are unchanged.
    document = json.loads(render(with_sign_off(snapshot, [APPROVAL]), sha, "json"))
    assert document["sha256"] == sha and document["snapshot"] == snapshot
    assert document[SIGN_OFF]["approvals"] == [APPROVAL]
    assert "Dr Ada Approver (Commissioner) on 23 November 2026" in approval_line(with_sign_off(snapshot, [APPROVAL]))
    assert edition("docx", 0) == "docx" and edition("docx", 2) == "docx.2"
    # The PDF has the sign-off and the COS-STAR items too.
    pdf = " ".join(" ".join(page.extract_text().split())
                   for page in PdfReader(io.BytesIO(render(with_sign_off(snapshot, [APPROVAL]), sha, "pdf"))).pages)
    assert "Dr Ada Approver" in pdf and "Conflicts of interest" in pdf and "Part 3. Sign-off" in pdf
    # A sign-off cannot smuggle a change into the snapshot: the hash is still checked.
    changed = with_sign_off(snapshot, [])
    changed["outcomes"] = []
    with pytest.raises(ValueError, match="sha256"):
        render(changed, sha)


def test_a_specification_reads_cleanly_and_a_ranking_round_claims_no_consensus_rule() -> None:
    """From a contract lead's trial: "Payment weight Payment weight 19%", "...for the year.; applies
    from", and a ranking round printed with the 1-9 consensus rule."""
    snapshot = example()
    rounds = snapshot["methods"]["rounds"]
    rounds.append({**rounds[0], "id": 999, "number": 9, "title": "Your top five", "method": "ranking"})
    snapshot, sha = with_hash(snapshot)
    text = text_of(docx.Document(io.BytesIO(render(snapshot, sha))))
    assert "Payment weight Payment weight" not in text and ".;" not in text
    spec = _schedule.spec(snapshot, snapshot["outcomes"][0], ["2027/28"])
    assert dict(spec.rows)["Payment weight"].endswith("of each year's outcome-linked money")
    fields = {r.heading: dict(r.fields) for r in build_annex(snapshot).rounds}
    ranking = next(f for h, f in fields.items() if "Your top five" in h)
    rating = next(f for h, f in fields.items() if "Your top five" not in h)
    assert "Consensus IN when" not in ranking and ranking["Consensus"].startswith("Not used")
    assert "Consensus IN when" in rating


def test_a_measurability_gap_is_specified_as_reported_only() -> None:
    """A contract lead found a gap indicator with a breach clause "when red" and no bands set."""
    snapshot = example()
    gap = next(o for o in snapshot["outcomes"] if o.get("measurability_gap"))
    rows = dict(_schedule.spec(snapshot, gap, ["2027/28"]).rows)
    assert rows["Payment and breach"].startswith("Reported only: no payment and no breach")
    assert not {"Consequence of breach", "RAG bands", "Payment timing"} & set(rows)
    paid = dict(_schedule.spec(snapshot, next(o for o in snapshot["outcomes"] if not o.get("measurability_gap")),
                                ["2027/28"]).rows)
    assert "Consequence of breach" in paid and "Payment and breach" not in paid

