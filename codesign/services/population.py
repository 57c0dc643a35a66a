"""Population groups: create blank or from a seed template; stakeholder groups and their weights."""

from __future__ import annotations

from sqlmodel import Session, select

from codesign.errors import NotFound, ValidationFailed
from codesign.library import DEFAULT_STAKEHOLDER_GROUPS, population_templates
from codesign.models import (
    Domain,
    Outcome,
    OutcomeSource,
    OutcomeSourceKind,
    OutcomeStatus,
    PopulationGroup,
    StakeholderGroup,
    User,
)
from codesign.services import audit
from codesign.validation import check_text, normalise_paragraphs, normalise_text, parse_decimal


def create_population_group(
    db: Session, actor: User | None, name: str, description: str = "", template_slug: str = ""
) -> PopulationGroup:
    """Create a population group, preloading a template's library outcomes when one is named."""
    name = normalise_text(name)
    description = normalise_paragraphs(description)
    errors: dict[str, str] = {}
    check_text(errors, "name", name, label="a name for the population group", max_length=200)
    check_text(errors, "description", description, label="a description", required=False, max_length=2000)
    templates = population_templates()
    template = templates.get(template_slug) if template_slug else None
    if template_slug and template is None:
        errors["template"] = "Choose one of the templates listed, or start blank"
    if errors:
        raise ValidationFailed(errors, {"name": name, "description": description, "template": template_slug})

    group = PopulationGroup(
        name=name,
        description=description or (template.description if template else ""),
        template_slug=template.slug if template else None,
        attribution=template.attribution if template else "",
        created_by_id=actor.id if actor else None,
    )
    db.add(group)
    db.flush()
    assert group.id is not None
    stakeholders = (
        template.stakeholder_groups
        if template
        else tuple((k, n, 1.0) for k, n in DEFAULT_STAKEHOLDER_GROUPS)
    )
    for position, (key, label, weight) in enumerate(stakeholders):
        db.add(StakeholderGroup(population_group_id=group.id, key=key, name=label, weight=weight, position=position))
    if template:
        for position, domain in enumerate(template.domains):
            db.add(Domain(population_group_id=group.id, key=domain.key, name=domain.name,
                          nhs_domain=domain.nhs_domain, position=position))
        for item in template.outcomes:
            outcome = Outcome(
                population_group_id=group.id,
                statement=item.statement,
                description=item.description,
                domain_key=item.domain or None,
                status=OutcomeStatus.accepted,
                source=OutcomeSourceKind.library,
                library_key=item.key,
            )
            db.add(outcome)
            db.flush()
            assert outcome.id is not None
            db.add(OutcomeSource(outcome_id=outcome.id, kind=OutcomeSourceKind.library,
                                 statement=item.statement, note=item.source[:500]))
    audit.record(
        db, actor, "population_group.created",
        summary=f"Population group “{name}” created"
        + (f" from the template “{template.name}” ({len(template.outcomes)} library outcomes)" if template else ""),
        object_type="population_group", object_id=group.id, population_group_id=group.id,
        details={"template": template.slug if template else None},
    )
    db.commit()
    return group


def set_stakeholder_weights(
    db: Session, actor: User, population_group_id: int, weights: dict[str, str]
) -> list[StakeholderGroup]:
    """Change how much each stakeholder group counts (non-negative; at least one above zero)."""
    groups = list(db.exec(select(StakeholderGroup).where(
        StakeholderGroup.population_group_id == population_group_id).order_by(StakeholderGroup.position)))  # type: ignore[arg-type]
    if not groups:
        raise NotFound("No such population group")
    errors: dict[str, str] = {}
    parsed: dict[str, float] = {}
    for group in groups:
        number = parse_decimal(normalise_text(weights.get(group.key, "")))
        if number is None:  # float() would take "nan", "1e3" and "٣"
            errors[f"weight-{group.key}"] = f"Enter a number for {group.name}, like 1"
            continue
        value = float(number)
        if not 0 <= value <= 100:
            errors[f"weight-{group.key}"] = f"The weight for {group.name} must be between 0 and 100"
        parsed[group.key] = value
    if not errors and sum(parsed.values()) <= 0:
        errors["weights"] = "At least one group must have a weight above 0"
    if errors:
        raise ValidationFailed(errors, weights)
    before = {g.key: g.weight for g in groups}
    for group in groups:
        group.weight = parsed[group.key]
        db.add(group)
    audit.record(
        db, actor, "stakeholder_weights.changed",
        summary="Stakeholder group weights changed: "
        + ", ".join(f"{g.name} {before[g.key]:g} → {g.weight:g}" for g in groups),
        object_type="population_group", object_id=population_group_id,
        population_group_id=population_group_id, details={"before": before, "after": parsed},
    )
    db.commit()
    return groups
