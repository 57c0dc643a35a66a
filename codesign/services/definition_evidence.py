"""Fill a measurement definition's baseline (and, when asked, its targets) from indicator data.

One click on the definition page: the baseline value, period and source and the comparator (naming
the peer areas) come from the comparison the definition links to; the suggested targets (reach the
best-5 mean by the final contract year, linear in between) are written only when the user chooses
them. Every field stays editable. Refused whole (nothing written) when there are no figures for the
link, or when the filled-in values would contradict the definition's other values.
"""

from __future__ import annotations

import json

from sqlmodel import Session, select

from codesign.contract import definition as defs
from codesign.contract import evidence_fill
from codesign.errors import NotFound, ValidationFailed
from codesign.models import FrameworkVersion, ShortlistItem, User, utcnow
from codesign.queries.definition_evidence import linked_evidence
from codesign.queries.framework import version_years
from codesign.services import audit
from codesign.services.framework_versions import refuse_if_frozen

FIELD = "evidence_data"  # the error's key: the page's indicator data section


def use_evidence_baseline(db: Session, actor: User, version_id: int, item_id: int, *,
                          with_targets: bool = False) -> dict[str, str]:
    """Write the baseline and comparator (and the suggested targets when `with_targets`); returns
    the fields written."""
    version = db.get(FrameworkVersion, version_id)
    if version is None:
        raise NotFound("No such framework version")
    refuse_if_frozen(db, actor, version, "changing a measurement definition")
    # Locked (PostgreSQL) from this read to the commit: a definition saved meanwhile is either
    # read here or waits, never overwritten with what was there before it.
    item = db.exec(select(ShortlistItem).where(ShortlistItem.id == item_id).with_for_update()).first()
    if item is None or item.version_id != version.id:
        raise NotFound("No such outcome in this framework")
    years = version_years(version)
    labels = [y["label"] for y in years]
    definition = defs.normalise(json.loads(item.definition_json or "{}"), labels)
    evidence = linked_evidence(db, definition)
    if evidence is None:
        raise ValidationFailed({FIELD: "Link this definition to indicator data first: enter the indicator and the "
                                       "area code, and save the definition"})
    if not evidence.get("available") or evidence.get("value") is None:
        problem = evidence.get("problem") or (f"Area {evidence['area']} has no value for indicator "
                                              f"{evidence['indicator']} in {evidence.get('period')}")
        raise ValidationFailed({FIELD: f"There is no baseline to use: {problem}. Import the figures on the "
                                       "indicator data page, or type the baseline in"})
    written = evidence_fill.baseline_fields(evidence)
    if with_targets:
        targets = evidence_fill.suggest_targets(evidence, labels) if evidence.get("peers") else None
        if not evidence.get("peers"):
            raise ValidationFailed({FIELD: f"There are no targets to suggest: area {evidence['area']} has no similar "
                                           "areas set. Add them on the Peer areas page"})
        if targets is None:
            raise ValidationFailed({FIELD: "There are no targets to suggest: the area is already at or better than "
                                           "the best-5 mean of its peers. Set the targets locally"})
        definition["targets"] = [{"year": y, "value": v} for y, v in zip(labels, targets, strict=True)]
        written.update({f"target {y}": v for y, v in zip(labels, targets, strict=True)})
    definition.update({k: v for k, v in written.items() if k in defs.BY_NAME})
    paid = [y["label"] for y in years if not y.get("shadow") and y.get("share_bp", 0) > 0]
    conflicts = defs.consistency_errors(definition, paid_years=paid)
    if conflicts:
        raise ValidationFailed({FIELD: "The baseline from the data would contradict this definition: "
                                       + " ".join(conflicts.values())
                                       + (" Use the suggested targets too, or change the targets first."
                                          if not with_targets else "")})
    item.definition_json = json.dumps(definition, sort_keys=True)
    item.updated_at = utcnow()
    db.add(item)
    audit.record(db, actor, "definition.baseline_from_data",
                 summary=f"Baseline {'and targets ' if with_targets else ''}filled in from indicator "
                         f"{evidence['indicator']}, area {evidence['area']}, {evidence['period']}",
                 object_type="framework_version", object_id=version.id,
                 population_group_id=version.population_group_id,
                 details={"item_id": item_id, "indicator": evidence["indicator"], "area": evidence["area"],
                          "period": evidence["period"], "written": written})
    db.commit()
    return written
