"""No export prints a literal "None" (issue 12, section 3): a framework frozen through the real
services with every optional field left empty, written in every format and read back as text."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import docx
import openpyxl
from pypdf import PdfReader
from sqlmodel import Session

from codesign import queries
from codesign.export import FORMATS, export
from codesign.export.pdf import payload
from codesign.models import FrameworkVersion, User
from codesign.services import framework_versions, shortlist
from tests.export.snapshots import example, with_hash
from tests.framework_helpers import closed_rating_round

NONE = re.compile(r"\bNone\b")
# Every required field, nothing optional: no numerator, denominator, case-mix, instrument,
# time points, comparator, breakdowns or library indicator (a count needs no numerator).
REQUIRED_ONLY = {
    "population": "Adults with diabetes", "indicator_name": "Admissions", "indicator_type": "outcome",
    "unit": "count", "direction": "lower", "data_source": "HES/SUS", "data_owner": "NHS England",
    "collection_frequency": "monthly", "reporting_frequency": "quarterly", "reporting_lag_months": "3",
    "small_number_rule": "Suppress counts below 5", "baseline_value": "40", "baseline_period": "2025/26",
    "baseline_source": "HES", "rag_green": "30", "rag_amber": "35", "achievement": "all_or_nothing",
    "consequence_of_breach": "Remedial action plan", "accountable_providers": "Lead provider",
    "evidence": "Quarterly extract", "review_date": "2030-03-31", "target-1": "35", "target-2": "30",
    "rationale": "Fewer admissions", "exclusions": "No exclusions", "time_base": "Rolling 12 months",
    "measurement_period": "The 12 months to 31 December", "data_submission": "Quarterly extract",
    "payment_thresholds": "targets", "payment_timing": "Year end", "floor_cap": "No floor or cap",
    "breach_applies": "From the first paid year", "dispute_route": "Data quality group",
}
# Payment terms with no title, parties or contract reference.
BARE_TERMS = {"contract_value": "1,000,000", "mechanism": "withhold",
              "year-0-label": "2026/27", "year-0-share": "0", "year-0-shadow": "yes",
              "year-1-label": "2027/28", "year-1-share": "10", "year-2-label": "2028/29", "year-2-share": "15",
              "protocol_reference": "Protocol EX-1", "ethics_consent": "Service improvement", "funding": "ICB",
              "eligibility": "GP practices", "limitations": "Self-selected",
              **{f"coi-{g}": "Nothing declared" for g in ("patient", "carer", "clinician", "commissioner")}}


def texts(snapshot: dict[str, Any], sha256: str) -> dict[str, str]:
    """What a reader sees in each format (the PDF also as the data Typst typesets it from)."""
    out: dict[str, str] = {"pdf data": json.dumps(payload(snapshot, sha256), ensure_ascii=False)}
    for fmt in FORMATS:
        buf = io.BytesIO()
        export(snapshot, sha256, fmt, buf)
        data = buf.getvalue()
        if fmt == "docx":
            document = docx.Document(io.BytesIO(data))
            parts = [p.text for p in document.paragraphs]
            parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
            for section in document.sections:
                parts += [p.text for p in section.footer.paragraphs + section.header.paragraphs]
            out[fmt] = "\n".join(parts)
        elif fmt == "pdf":
            out[fmt] = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
        elif fmt == "xlsx":
            book = openpyxl.load_workbook(io.BytesIO(data))
            out[fmt] = "\n".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
                                 if c.value is not None)
        elif fmt == "csv":
            out[fmt] = "\n".join(",".join(row) for row in csv.reader(io.StringIO(data.decode("utf-8"))))
        else:
            out[fmt] = data.decode("utf-8")
    return out


def _frozen_with_empty_optional_fields(session: Session, actor: User, workshop: Any) -> FrameworkVersion:
    found = closed_rating_round(session, actor, workshop)
    version = framework_versions.start_draft(session, actor, workshop.population_group_id)
    shortlist.build_from_round(session, actor, version.id or 0, found.id)
    framework_versions.save_terms(session, actor, version.id or 0, BARE_TERMS)
    for item in queries.get_version_view(session, version.id or 0).items:
        shortlist.save_definition(session, actor, version.id or 0, item.item.id or 0, REQUIRED_ONLY)
    shortlist.suggest_weights(session, actor, version.id or 0)
    assert queries.get_version_view(session, version.id or 0).checklist() == []
    return framework_versions.freeze(session, actor, version.id or 0)


def test_no_export_prints_none_for_empty_optional_fields(session: Session, facilitator: User, workshop) -> None:  # type: ignore[no-untyped-def]
    frozen = _frozen_with_empty_optional_fields(session, facilitator, workshop)
    snapshot = json.loads(frozen.snapshot_json or "{}")
    assert frozen.sha256
    for fmt, text in texts(snapshot, frozen.sha256).items():
        assert not NONE.search(text), (fmt, [line for line in text.splitlines() if NONE.search(line)])


def test_no_export_prints_none_when_the_snapshot_has_nulls() -> None:
    # Optional values absent as JSON null (older snapshots, values never asked for).
    snapshot = example()
    snapshot["framework"]["contract"] = {"commissioner": None, "provider": None, "reference": None}
    for outcome in snapshot["outcomes"]:
        outcome["description"] = None
        outcome["domain"] = None
        outcome["source_round"] = None
        for key in ("numerator", "denominator", "case_mix_adjustment", "instrument", "instrument_licence_note",
                    "time_points", "comparator", "gap_plan", "indicator_key"):
            outcome["definition"][key] = None
    snapshot, sha = with_hash(snapshot)
    for fmt, text in texts(snapshot, sha).items():
        match = NONE.search(text)
        assert match is None, (fmt, [line for line in text.splitlines() if NONE.search(line)])
