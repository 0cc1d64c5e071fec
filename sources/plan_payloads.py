"""Wire models and mapping of the plan sources' FHIR R4 ``CarePlan``, ``Goal`` and ``Condition``.

Pydantic models (on the shared datatypes of :mod:`sources.datatypes`) validate one resource at a
time; the ``*_record`` functions turn a validated resource into a source-neutral record or raise
:class:`~sources.payloads.ShapeError` (no data in the message) when it validates structurally but
breaks the wire format. Dates of any precision are kept as the local dates they may denote (a
``recordedDate`` of ``2019-06`` is June 2019); ``onset[x]`` is read as a choice type. Wire format:
``docs/sources/plans.md``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from sources.clinical import (
    CarePlanRecord,
    CodingRecord,
    ConditionRecord,
    DiagnosisCodeSystem,
    GoalKind,
    GoalRecord,
    InterventionRecord,
    OrganisationKind,
    OrganisationRef,
)
from sources.datatypes import (
    CodeableConcept,
    DateTime,
    Extension,
    OnsetChoice,
    Period,
    Reference,
    period_days,
)
from sources.identifiers import IdentifierKind
from sources.models import PeriodRecord
from sources.payloads import FhirModel, ShapeError, member

CUSTODIAN_URL = "http://patientoverblik.dk/fhir/StructureDefinition/custodian"
PROFESSION_URL = "http://patientoverblik.dk/fhir/StructureDefinition/profession"
GOAL_RELATIONSHIP_URL = "http://hl7.org/fhir/StructureDefinition/goal-relationship"
GOAL_KIND_SYSTEM = "http://patientoverblik.dk/fhir/CodeSystem/goal-kind"
KL_CARE_SOCIAL_SYSTEM = "http://fhir.kl.dk/term/CodeSystem/CareSocialCodes"

SKS_D = "urn:oid:1.2.208.176.2.4.12"
SKS = "urn:oid:1.2.208.176.2.4"
ICPC2 = "urn:oid:1.2.208.176.2.31"
FSIII = "urn:oid:1.2.208.176.2.21"
FFB = "urn:oid:1.2.208.176.2.22"
SNOMED = "http://snomed.info/sct"
KLE = "http://kle-online.dk"
"""No official FHIR URI or OID for KL Emnesystematik was found; this one is ours (docs)."""

CODE_SYSTEMS: dict[str, DiagnosisCodeSystem | Literal["KLE"]] = {
    SKS_D: DiagnosisCodeSystem.SKS,
    SKS: DiagnosisCodeSystem.SKS,
    ICPC2: DiagnosisCodeSystem.ICPC2,
    "https://kiap.dk/kiap/koder/icpckoder": DiagnosisCodeSystem.ICPC2,
    FSIII: DiagnosisCodeSystem.FSIII,
    "http://kl.dk/fhir/common/caresocial/CodeSystem/FSIII": DiagnosisCodeSystem.FSIII,
    FFB: DiagnosisCodeSystem.FFB,
    "http://kl.dk/fhir/common/caresocial/CodeSystem/FFB": DiagnosisCodeSystem.FFB,
    SNOMED: DiagnosisCodeSystem.SNOMED,
    "http://snomed.info/sct/554471000005108": DiagnosisCodeSystem.SNOMED,
    KLE: "KLE",
}
"""Known code-system URIs → the short names records carry (other systems keep their URI)."""

KL_GOAL_KINDS: dict[str, GoalKind] = {
    "416fe27d-3ccf-4390-8742-8b52a9d8dc78": GoalKind.LIFE,  # borgers mål og ønsker
    "ca552020-6ed1-4cdc-b0d4-32697f1f27ad": GoalKind.FUNCTIONAL,  # FSIII tilstandsmål
    "e6f35a88-6665-4471-9dce-9a98854532b4": GoalKind.FUNCTIONAL,  # FSIII indsatsmål
    "0bb3daef-538d-45dc-b444-abdbcb63f6bc": GoalKind.FUNCTIONAL,  # FFB indsatsmål
    "6746d4af-145a-4bfd-a672-05c0cf11b53b": GoalKind.FUNCTIONAL,  # FFB delmål
}
"""KL målkategori codes a goal's kind is read from when it has no goal-kind coding."""

EXPRESSED_BY = {
    "Patient": "patient",
    "Practitioner": "practitioner",
    "PractitionerRole": "practitioner",
    "RelatedPerson": "related-person",
}

_ID = r"[A-Za-z0-9\-.]{1,64}"

_Model = FhirModel
Concept = CodeableConcept


class _Resource(_Model):
    id: str = Field(pattern=f"^{_ID}$")
    extension: list[Extension] = Field(default_factory=list)
    subject: Reference
    contained: list[dict[str, Any]] = Field(default_factory=list)


class Detail(_Model):
    code: Concept | None = None
    status: Literal[
        "not-started",
        "scheduled",
        "in-progress",
        "on-hold",
        "completed",
        "cancelled",
        "stopped",
        "unknown",
        "entered-in-error",
    ]
    description: str | None = None
    scheduled_period: Period | None = None
    performer: list[Reference] = Field(default_factory=list)
    goal: list[Reference] = Field(default_factory=list)


class Activity(_Model):
    detail: Detail | None = None


class CarePlan(_Resource):
    resource_type: Literal["CarePlan"]
    status: Literal["draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"]
    intent: Literal["proposal", "plan", "order", "option"]
    category: list[Concept] = Field(default_factory=list)
    title: str | None = None
    description: str | None = None
    period: Period | None = None
    author: Reference | None = None
    activity: list[Activity] = Field(default_factory=list)
    goal: list[Reference] = Field(default_factory=list)
    addresses: list[Reference] = Field(default_factory=list)


class Target(_Model):
    due_date: DateTime | None = None


class Goal(_Resource):
    resource_type: Literal["Goal"]
    lifecycle_status: Literal[
        "proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled", "entered-in-error", "rejected"
    ]
    achievement_status: Concept | None = None
    category: list[Concept] = Field(default_factory=list)
    description: Concept
    expressed_by: Reference | None = None
    addresses: list[Reference] = Field(default_factory=list)
    start_date: DateTime | None = None
    target: list[Target] = Field(default_factory=list)


class Condition(OnsetChoice, _Resource):
    resource_type: Literal["Condition"]
    clinical_status: Concept | None = None
    verification_status: Concept | None = None
    category: list[Concept] = Field(default_factory=list)
    code: Concept
    recorded_date: DateTime | None = None


def organisation(reference: Reference, kind: OrganisationKind | None = None) -> OrganisationRef | None:
    """A SOR-identified organisation reference, or ``None`` when it names no SOR unit."""
    identifier = reference.identifier
    if identifier is None or identifier.kind is not IdentifierKind.SOR:
        return None
    sor = identifier.normalised(IdentifierKind.SOR)
    if sor is None:
        raise ShapeError("organisation reference with a malformed SOR code")
    return OrganisationRef(sor, reference.display or sor, kind)


def custodian(resource: _Resource, kind: OrganisationKind | None) -> OrganisationRef | None:
    """The organisation responsible for the item (the custodian extension)."""
    found = [e for e in resource.extension if e.url == CUSTODIAN_URL]
    if not found:
        return None
    if len(found) > 1 or found[0].value_reference is None:
        raise ShapeError("custodian extension is not one organisation reference")
    ref = organisation(found[0].value_reference, kind)
    if ref is None:
        raise ShapeError("custodian is not a SOR organisation")
    return ref


def ref_ids(references: list[Reference], resource_type: str) -> tuple[str, ...]:
    """The ids of the references of the form ``[base/]<resource_type>/<id>``; others are left out."""
    pattern = re.compile(f"(?:^|/){resource_type}/({_ID})(?:/_history/[^/]+)?$")
    ids = [m.group(1) for r in references if r.reference and (m := pattern.search(r.reference))]
    return tuple(dict.fromkeys(ids))


def coding(concept: Concept | None, prefer: frozenset[str] = frozenset()) -> CodingRecord | None:
    """The first coding in a ``prefer`` system (else the first), its system by record name; codings need a code."""
    if concept is None or not concept.coding:
        return None
    if any(not c.code for c in concept.coding):
        raise ShapeError("a coding without a code")
    chosen = next((c for c in concept.coding if _system_name(c.system) in prefer), concept.coding[0])
    assert chosen.code is not None
    return CodingRecord(_system_name(chosen.system), chosen.code, chosen.display or concept.text)


def _system_name(system: str | None) -> str:
    if system is None:
        return ""
    return str(CODE_SYSTEMS.get(system, system))


_INTERVENTION_SYSTEMS = frozenset({"FSIII", "KLE", "SKS", "FFB", "SNOMED"})


def _intervention(detail: Detail) -> InterventionRecord:
    code = coding(detail.code, _INTERVENTION_SYSTEMS)
    description = detail.description or (code.display if code else None)
    if not description:
        raise ShapeError("intervention without a description")
    performers = [o for o in (organisation(p) for p in detail.performer) if o is not None]
    return InterventionRecord(
        description=description,
        status=detail.status,
        code=code,
        period=period_days(detail.scheduled_period),
        performer=performers[0] if performers else None,
        goal_ids=ref_ids(detail.goal, "Goal"),
        started=_started(detail.scheduled_period),
    )


def _started(period: Period | None) -> PeriodRecord | None:
    return period.start.days if period is not None and period.start is not None else None


def care_plan_record(plan: CarePlan, cpr: str, source: str, kind: OrganisationKind | None) -> CarePlanRecord:
    """A validated ``CarePlan`` of patient ``cpr`` as a :class:`CarePlanRecord`."""
    author = organisation(plan.author, kind) if plan.author is not None else None
    owner = custodian(plan, kind) or author
    if owner is None:
        raise ShapeError("care plan without a responsible organisation")
    category = coding(plan.category[0]) if plan.category else None
    title = plan.title or (category.display if category else None)
    if not title:
        raise ShapeError("care plan without a title")
    return CarePlanRecord(
        id=plan.id,
        cpr=cpr,
        source=source,
        title=title,
        status=plan.status,
        organisation=owner,
        period=period_days(plan.period),
        started=_started(plan.period),
        description=plan.description,
        category=category,
        interventions=tuple(_intervention(a.detail) for a in plan.activity if a.detail is not None),
        goal_ids=ref_ids(plan.goal, "Goal"),
        condition_ids=ref_ids(plan.addresses, "Condition"),
    )


def _goal_kind(goal: Goal) -> GoalKind:
    codings = [c for concept in goal.category for c in concept.coding]
    for c in codings:
        if c.system == GOAL_KIND_SYSTEM:
            kind = member(GoalKind, c.code)
            if kind is None:
                raise ShapeError("unknown goal kind")
            return kind
    for c in codings:
        if c.system == KL_CARE_SOCIAL_SYSTEM and c.code in KL_GOAL_KINDS:
            return KL_GOAL_KINDS[c.code]
    raise ShapeError("goal without a kind")


def _part_of(goal: Goal) -> str | None:
    for ext in goal.extension:
        if ext.url != GOAL_RELATIONSHIP_URL:
            continue
        parts = {e.url: e for e in ext.extension}
        kind, target = parts.get("type"), parts.get("target")
        concept = kind.value_codeable_concept if kind else None
        if concept is None or target is None or target.value_reference is None:
            raise ShapeError("goal relationship without a type and a target")
        if concept.text == "based-on" or any(c.code == "based-on" for c in concept.coding):
            ids = ref_ids([target.value_reference], "Goal")
            if not ids:
                raise ShapeError("goal relationship target is not a goal")
            return ids[0]
    return None


def _profession(goal: Goal) -> str | None:
    for ext in goal.extension:
        if ext.url == PROFESSION_URL and ext.value_codeable_concept is not None:
            concept = ext.value_codeable_concept
            first = concept.coding[0] if concept.coding else None
            return concept.text or (first.display or first.code if first else None)
    return None


def _expressed_by(reference: Reference | None) -> str | None:
    if reference is None:
        return None
    kind = reference.type or (reference.reference or "").rpartition("/")[0].rpartition("/")[2]
    if kind not in EXPRESSED_BY:
        raise ShapeError("goal expressed by an unknown kind of party")
    return EXPRESSED_BY[kind]


def goal_record(goal: Goal, cpr: str, source: str, kind: OrganisationKind | None) -> GoalRecord:
    """A validated ``Goal`` of patient ``cpr`` as a :class:`GoalRecord`."""
    owner = custodian(goal, kind)
    if owner is None:
        raise ShapeError("goal without a responsible organisation")
    description = goal.description.text or next((c.display for c in goal.description.coding if c.display), None)
    if not description:
        raise ShapeError("goal without a description")
    categories = [Concept(coding=[c], text=concept.text) for concept in goal.category for c in concept.coding]
    category = next((coding(c) for c in categories if c.coding[0].system != GOAL_KIND_SYSTEM), None)
    return GoalRecord(
        id=goal.id,
        cpr=cpr,
        source=source,
        kind=_goal_kind(goal),
        description=description,
        lifecycle_status=goal.lifecycle_status,
        organisation=owner,
        expressed_by=_expressed_by(goal.expressed_by),
        profession=_profession(goal),
        part_of=_part_of(goal),
        addresses=ref_ids(goal.addresses, "Condition"),
        category=category,
        achievement=_first_code(goal.achievement_status),
        start=goal.start_date.days if goal.start_date is not None else None,
        due=next((t.due_date.days for t in goal.target if t.due_date is not None), None),
    )


def condition_record(condition: Condition, cpr: str, source: str, kind: OrganisationKind | None) -> ConditionRecord:
    """A validated ``Condition`` of patient ``cpr`` as a :class:`ConditionRecord`."""
    owner = custodian(condition, kind)
    if owner is None:
        raise ShapeError("condition without a responsible organisation")
    codings = condition.code.coding
    if not codings or any(not c.code for c in codings):
        raise ShapeError("condition without a code")
    known = [c for c in codings if isinstance(CODE_SYSTEMS.get(c.system or ""), DiagnosisCodeSystem)]
    chosen = known[0] if known else codings[0]
    assert chosen.code is not None
    system = CODE_SYSTEMS.get(chosen.system or "")
    return ConditionRecord(
        id=condition.id,
        cpr=cpr,
        source=source,
        code_system=system if isinstance(system, DiagnosisCodeSystem) else DiagnosisCodeSystem.OTHER,
        code=chosen.code,
        display=chosen.display or condition.code.text or chosen.code,
        organisation=owner,
        clinical_status=_first_code(condition.clinical_status),
        category=_first_code(condition.category[0]) if condition.category else None,
        onset=condition.onset_days,
        recorded=condition.recorded_date.days if condition.recorded_date is not None else None,
    )


def entered_in_error(condition: Condition) -> bool:
    """Whether the condition's verification status marks it as entered in error."""
    return _first_code(condition.verification_status) == "entered-in-error"


def _first_code(concept: Concept | None) -> str | None:
    return concept.coding[0].code if concept is not None and concept.coding else None
