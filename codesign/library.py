"""Seed content in seed/: population-group templates and the indicator library (read-only)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from codesign import paths
from codesign.voting.groups import DEFAULT_GROUPS

# key, name: the groups every population group starts with; `codesign tally` knows these too.
DEFAULT_STAKEHOLDER_GROUPS: tuple[tuple[str, str], ...] = tuple(DEFAULT_GROUPS.items())


@dataclass(frozen=True)
class TemplateOutcome:
    key: str
    statement: str
    description: str
    domain: str
    source: str


@dataclass(frozen=True)
class TemplateDomain:
    key: str
    name: str
    nhs_domain: int | None


@dataclass(frozen=True)
class PopulationTemplate:
    slug: str
    name: str
    description: str
    attribution: str
    stakeholder_groups: tuple[tuple[str, str, float], ...]
    domains: tuple[TemplateDomain, ...]
    outcomes: tuple[TemplateOutcome, ...]


def _template_from_json(data: dict[str, Any]) -> PopulationTemplate:
    groups = data.get("stakeholder_groups") or [
        {"key": k, "name": n, "weight": 1} for k, n in DEFAULT_STAKEHOLDER_GROUPS
    ]
    return PopulationTemplate(
        slug=data["slug"],
        name=data["name"],
        description=data.get("description", ""),
        attribution=data.get("attribution", ""),
        stakeholder_groups=tuple((g["key"], g["name"], float(g.get("weight", 1))) for g in groups),
        domains=tuple(
            TemplateDomain(d["key"], d["name"], d.get("nhs_outcomes_framework_domain"))
            for d in data.get("domains", [])
        ),
        outcomes=tuple(
            TemplateOutcome(o["key"], o["statement"], o.get("description", ""), o.get("domain", ""),
                            o.get("source", ""))
            for o in data.get("outcomes", [])
        ),
    )


@lru_cache(maxsize=4)
def population_templates(folder: Path = paths.SEED / "population_templates") -> dict[str, PopulationTemplate]:
    """Templates by slug, in file-name order."""
    found: dict[str, PopulationTemplate] = {}
    for file in sorted(folder.glob("*.json")):
        template = _template_from_json(json.loads(file.read_text(encoding="utf-8")))
        found[template.slug] = template
    return found


@lru_cache(maxsize=4)
def indicator_library(folder: Path = paths.SEED / "indicators") -> dict[str, dict[str, Any]]:
    """Every library indicator by key, each tagged with the template it belongs to."""
    found: dict[str, dict[str, Any]] = {}
    for file in sorted(folder.glob("*.json")):
        data = json.loads(file.read_text(encoding="utf-8"))
        for indicator in data.get("indicators", []):
            found[indicator["key"]] = {**indicator, "population_template": data.get("population_template", ""),
                                       "attribution": data.get("attribution", "")}
    return found


def suggest_indicators(statement: str, library_key: str | None, template_slug: str | None,
                       limit: int = 5) -> list[dict[str, Any]]:
    """Library indicators that could measure an outcome: those written for its library outcome
    first, then those whose keywords appear in its wording (most matches first)."""
    words = statement.casefold()
    scored: list[tuple[int, str, dict[str, Any]]] = []
    for key, indicator in indicator_library().items():
        if indicator.get("population_template", "") not in (template_slug or "", ""):
            # A frailty indicator is no suggestion for a diabetes outcome, and a group started blank
            # (it could be about anyone) gets none written for a particular population.
            continue
        score = 0
        if library_key and library_key in indicator.get("outcome_keys", []):
            score += 100
        score += sum(1 for k in indicator.get("keywords", []) if k.casefold() in words)
        if score:
            scored.append((score, key, indicator))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [indicator for _, _, indicator in scored[:limit]]


ICHOM_WORDING = "from the codesign library, after the ICHOM standard set"


def library_wording(template_slug: str | None) -> dict[str, str]:
    """How the public page says where a library outcome came from, by its library wording: only
    what the library records ("after the ICHOM standard set" for outcomes taken from an ICHOM set,
    never more; the library's own note for the others)."""
    template = population_templates().get(template_slug or "")
    if template is None:
        return {}
    wording: dict[str, str] = {}
    for outcome in template.outcomes:
        if outcome.source.startswith("ICHOM"):
            wording[outcome.statement] = ICHOM_WORDING
        else:
            note = outcome.source.removeprefix("codesign library:").strip()
            wording[outcome.statement] = f"from the codesign library ({note})" if note else "from the codesign library"
    return wording
