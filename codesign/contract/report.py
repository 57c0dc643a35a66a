"""What the co-design annex needs that the workshops do not record (COS-STAR, Kirkham et al. 2016):
the protocol, ethics and consent, funding, who was eligible and how they were recruited, each
stakeholder group's declared conflicts of interest, and the limitations. Kept on the framework
version (copied into a new draft), asked for before freezing, printed in the annex.

Pure: no web or database code. A report is a dict of strings, with `conflicts` a dict of
stakeholder group name to text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from codesign.validation import normalise_paragraphs, normalise_text

# name -> (label, most characters, long text)
FIELDS: dict[str, tuple[str, int, bool]] = {
    "protocol_reference": ("Protocol reference (where the study protocol is published)", 300, False),
    "ethics_consent": ("Ethics approval and participants' consent", 2000, True),
    "funding": ("Funding", 2000, True),
    "eligibility": ("Eligibility and recruitment of participants", 2000, True),
    "limitations": ("Limitations", 2000, True),
}
CONFLICT_LABEL = "Declared conflicts of interest"


def load(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def conflict_key(group_key: str) -> str:
    return f"coi-{group_key}"


def parse(form: Mapping[str, str], groups: Sequence[tuple[str, str]], errors: dict[str, str]) -> dict[str, Any]:
    """The report from a form; `groups` are (key, name) of the population group's stakeholder groups.
    Part-done is fine (the checklist asks for what is missing); too long is refused."""
    out: dict[str, Any] = {}
    for name, (label, limit, long) in FIELDS.items():
        text = (normalise_paragraphs if long else normalise_text)(form.get(name, ""))
        if len(text) > limit:
            errors[name] = f"{label} must be {limit:,} characters or fewer (you have {len(text):,})"
        out[name] = text
    conflicts: dict[str, str] = {}
    for key, group in groups:
        text = normalise_paragraphs(form.get(conflict_key(key), ""))
        if len(text) > 1000:
            errors[conflict_key(key)] = f"{CONFLICT_LABEL} of {group} must be 1,000 characters or fewer"
        conflicts[group] = text
    out["conflicts"] = conflicts
    return out


def missing(report: Mapping[str, Any], group_names: Sequence[str]) -> list[str]:
    """What the annex still lacks, in the checklist's words."""
    gaps = [label for name, (label, _n, _l) in FIELDS.items() if not str(report.get(name, "")).strip()]
    conflicts = report.get("conflicts") or {}
    gaps += [f"{CONFLICT_LABEL} of {g} (write “None declared” if there are none)"
             for g in group_names if not str(conflicts.get(g, "")).strip()]
    return gaps
