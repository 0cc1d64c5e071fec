"""Simulated plan source: one endpoint's plans, goals and diagnoses as FHIR R4 searches.

Routes (``docs/sources/plans.md``), each a searchset ``Bundle`` paged by ``_count`` (default 50)
with ``link[relation=next]``:

- ``GET /fhir/CarePlan``: ``population.clinical.care_plans`` of this endpoint, ``date`` on the period
  (FHIR's overlap semantics: ``ge`` matches a plan still running) and ``period-start`` on the start
  (our ``SearchParameter``: only plans that *started* in the range);
- ``GET /fhir/Goal``: ``population.clinical.goals``, ``start-date`` on the goal's start;
- ``GET /fhir/Condition``: ``population.clinical.conditions``, ``recorded-date`` on the recorded date.

Every search takes ``patient.identifier`` (required), its date parameters (``ge``/``gt``/``le``/``lt``/
``eq`` prefixes, repeatable), ``custodian:not`` (repeatable, a SOR code each), ``_count`` and
``_offset`` (the next links). Any other parameter, or a malformed value, is a 400 OperationOutcome.
A condition may carry raw wire values (``Condition.recorded_value``, ``Condition.onset``) to serve
partial dates and ``onset[x]`` choice types exactly as a real source sends them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.clinical import CarePlan, Condition, Goal, Intervention
from sandbox.population import Population

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
CUSTODIAN_URL = "http://patientoverblik.dk/fhir/StructureDefinition/custodian"
PROFESSION_URL = "http://patientoverblik.dk/fhir/StructureDefinition/profession"
GOAL_RELATIONSHIP_URL = "http://hl7.org/fhir/StructureDefinition/goal-relationship"
GOAL_KIND_SYSTEM = "http://patientoverblik.dk/fhir/CodeSystem/goal-kind"
PLAN_CATEGORY_SYSTEM = "http://patientoverblik.dk/fhir/CodeSystem/plan-category"
KL_CARE_SOCIAL_SYSTEM = "http://fhir.kl.dk/term/CodeSystem/CareSocialCodes"
GOAL_ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
CLINICAL_STATUS_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-category"

CODE_SYSTEMS = {
    "SKS-D": "urn:oid:1.2.208.176.2.4.12",
    "SKS": "urn:oid:1.2.208.176.2.4",
    "ICPC2": "urn:oid:1.2.208.176.2.31",
    "FSIII": "urn:oid:1.2.208.176.2.21",
    "FFB": "urn:oid:1.2.208.176.2.22",
    "SNOMED": "http://snomed.info/sct",
    "KLE": "http://kle-online.dk",
}
SNOMED_DK_EDITION = "http://snomed.info/sct/554471000005108"

GOAL_KINDS = {"life": "Livsmål", "disease": "Sygdomsspecifikt mål", "functional": "Funktionsmål"}
KL_CATEGORIES = {
    "life": ("416fe27d-3ccf-4390-8742-8b52a9d8dc78", "Borgers mål og ønsker"),
    "functional": ("ca552020-6ed1-4cdc-b0d4-32697f1f27ad", "FSIII tilstandsmål"),
    "sub-goal": ("e6f35a88-6665-4471-9dce-9a98854532b4", "FSIII indsatsmål"),
}
EXPRESSED_BY = {"patient": "Patient", "practitioner": "Practitioner", "related-person": "RelatedPerson"}

DEFAULT_COUNT = 50
MAX_COUNT = 500

_CPR = re.compile(r"[0-9]{10}")
_SOR = re.compile(r"[0-9]{5,18}")
_DATE_VALUE = re.compile(r"(eq|ge|gt|le|lt)?([0-9]{4}-[0-9]{2}-[0-9]{2})")
_COMMON = frozenset({"patient.identifier", "custodian:not", "_count", "_offset"})


class _BadRequest(ValueError):
    """A search the simulated server refuses (answered 400)."""


@dataclass(frozen=True)
class _Search:
    cprs: frozenset[str]
    dates: tuple[tuple[str, date], ...]
    excluded: frozenset[str]
    count: int
    offset: int


def create_app(population: Population, endpoint: str) -> Starlette:
    """The simulator of plan endpoint ``endpoint`` over ``population.clinical``."""
    world = population.clinical
    practices = {p.sor: p.name for p in population.practices.values()}

    def organisation(sor: str) -> dict[str, Any]:
        known = world.organisations.get(sor)
        name = known.name if known is not None else practices.get(sor)
        return {"type": "Organization", "identifier": {"system": SOR_SYSTEM, "value": sor}} | (
            {"display": name} if name else {}
        )

    def route(
        resource_type: str, date_params: tuple[str, ...], search_items: Callable[[_Search], list[dict[str, Any]]]
    ) -> Route:
        async def handle(request: Request) -> JSONResponse:
            try:
                search = _parse(request, date_params)
            except _BadRequest as exc:
                return _outcome(str(exc))
            resources = search_items(search)
            page = resources[search.offset : search.offset + search.count]
            links = [{"relation": "self", "url": str(request.url)}]
            if search.offset + search.count < len(resources):
                links.append({"relation": "next", "url": _page_url(request, search.offset + search.count)})
            base = str(request.url.replace(query="")).rstrip("/")
            entries = [{"fullUrl": f"{base}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in page]
            body = {"resourceType": "Bundle", "type": "searchset", "total": len(resources), "link": links}
            return _fhir(body | {"entry": entries})

        return Route(f"/fhir/{resource_type}", handle, methods=["GET"])

    def care_plans(search: _Search) -> list[dict[str, Any]]:
        return [
            _care_plan(p, organisation)
            for p in world.care_plans
            if p.endpoint == endpoint
            and _wanted(search, p.cpr, p.organisation_sor)
            and all(_overlaps(op, day, p.start, p.end) for op, day in search.dates if not op.startswith("start:"))
            and all(_compare(op[6:], p.start, day) for op, day in search.dates if op.startswith("start:"))
        ]

    def goals(search: _Search) -> list[dict[str, Any]]:
        return [
            _goal(g, organisation)
            for g in world.goals
            if g.endpoint == endpoint
            and _wanted(search, g.cpr, g.organisation_sor)
            and all(_compare(op, g.start, day) for op, day in search.dates)
        ]

    def conditions(search: _Search) -> list[dict[str, Any]]:
        return [
            _condition(c, organisation)
            for c in world.conditions
            if c.endpoint == endpoint
            and _wanted(search, c.cpr, c.organisation_sor)
            and all(_compare(op, c.recorded, day) for op, day in search.dates)
        ]

    return Starlette(
        routes=[
            route("CarePlan", ("date", "period-start"), care_plans),
            route("Goal", ("start-date",), goals),
            route("Condition", ("recorded-date",), conditions),
        ]
    )


def _parse(request: Request, date_params: tuple[str, ...]) -> _Search:
    """The search; a ``period-start`` bound is kept with its prefix marked ``start:``."""
    params = request.query_params
    unknown = set(params.keys()) - _COMMON - set(date_params)
    if unknown:
        raise _BadRequest("unknown search parameter")
    value = params.get("patient.identifier", "")
    cprs = [item.removeprefix(f"{CPR_SYSTEM}|") for item in value.split(",")]
    if not value or not all(_CPR.fullmatch(cpr) for cpr in cprs):
        raise _BadRequest("patient.identifier must list CPR numbers")
    dates = []
    for date_param in date_params:
        for item in params.getlist(date_param):
            match = _DATE_VALUE.fullmatch(item)
            if match is None:
                raise _BadRequest(f"{date_param} must be a date with an optional prefix")
            op = match.group(1) or "eq"
            dates.append((f"start:{op}" if date_param == "period-start" else op, date.fromisoformat(match.group(2))))
    excluded = [item.removeprefix(f"{SOR_SYSTEM}|") for item in params.getlist("custodian:not")]
    if not all(_SOR.fullmatch(sor) for sor in excluded):
        raise _BadRequest("custodian:not must name a SOR code")
    return _Search(
        frozenset(cprs),
        tuple(dates),
        frozenset(excluded),
        _number(params.get("_count"), DEFAULT_COUNT, 1, MAX_COUNT),
        _number(params.get("_offset"), 0, 0, 10**6),
    )


def _number(value: str | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise _BadRequest("paging parameters must be numbers in range")
    return int(value)


def _page_url(request: Request, offset: int) -> str:
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "_offset"]
    return str(request.url.replace(query=urlencode([*items, ("_offset", str(offset))])))


def _wanted(search: _Search, cpr: str, sor: str) -> bool:
    return cpr in search.cprs and sor not in search.excluded


def _compare(op: str, value: date, bound: date) -> bool:
    return {
        "eq": value == bound,
        "ge": value >= bound,
        "gt": value > bound,
        "le": value <= bound,
        "lt": value < bound,
    }[op]


def _overlaps(op: str, bound: date, start: date, end: date | None) -> bool:
    """FHIR date search on a period: the period and the range the prefix names overlap."""
    if op in ("ge", "gt"):
        return end is None or _compare(op, end, bound)
    if op in ("le", "lt"):
        return _compare(op, start, bound)
    return start <= bound and (end is None or bound <= end)


def _fhir(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type="application/fhir+json")


def _outcome(text: str) -> JSONResponse:
    issue = {"severity": "error", "code": "invalid", "diagnostics": text}
    return _fhir({"resourceType": "OperationOutcome", "issue": [issue]}, 400)


OrganisationRender = Callable[[str], dict[str, Any]]


def _common(item_id: str, cpr: str, custodian: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item_id,
        "extension": [{"url": CUSTODIAN_URL, "valueReference": custodian}],
        "subject": {"identifier": {"system": CPR_SYSTEM, "value": cpr}},
    }


def _refs(resource_type: str, ids: Sequence[str]) -> list[dict[str, str]]:
    return [{"reference": f"{resource_type}/{item}"} for item in ids]


def _period(start: date | None, end: date | None) -> dict[str, str]:
    return {key: day.isoformat() for key, day in (("start", start), ("end", end)) if day is not None}


def _slug(text: str) -> str:
    for danish, ascii_ in (("æ", "ae"), ("ø", "oe"), ("å", "aa")):
        text = text.lower().replace(danish, ascii_)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _intervention(item: Intervention, organisation: OrganisationRender) -> dict[str, Any]:
    system = CODE_SYSTEMS.get(item.code_system, item.code_system)
    return {
        "detail": {
            "code": {"coding": [{"system": system, "code": item.code, "display": item.display}], "text": item.display},
            "status": item.status,
            "description": item.description,
            "scheduledPeriod": _period(item.start, item.end),
            "performer": [organisation(item.performer_sor)],
            "goal": _refs("Goal", item.goal_ids),
        }
    }


def _care_plan(plan: CarePlan, organisation: OrganisationRender) -> dict[str, Any]:
    owner = organisation(plan.organisation_sor)
    resource: dict[str, Any] = {"resourceType": "CarePlan", **_common(plan.id, plan.cpr, owner)}
    resource |= {"status": plan.status, "intent": "plan", "title": plan.title}
    if plan.category:
        coding = {"system": PLAN_CATEGORY_SYSTEM, "code": _slug(plan.category), "display": plan.category}
        resource["category"] = [{"coding": [coding], "text": plan.category}]
    if plan.description:
        resource["description"] = plan.description
    return resource | {
        "period": _period(plan.start, plan.end),
        "author": owner,
        "addresses": _refs("Condition", plan.condition_ids),
        "goal": _refs("Goal", plan.goal_ids),
        "activity": [_intervention(i, organisation) for i in plan.interventions],
    }


def _goal(goal: Goal, organisation: OrganisationRender) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        **_common(goal.id, goal.cpr, organisation(goal.organisation_sor)),
    }
    if goal.part_of:
        relationship = [
            {"url": "type", "valueCodeableConcept": {"text": "based-on"}},
            {"url": "target", "valueReference": {"reference": f"Goal/{goal.part_of}"}},
        ]
        resource["extension"].append({"url": GOAL_RELATIONSHIP_URL, "extension": relationship})
    if goal.profession:
        resource["extension"].append({"url": PROFESSION_URL, "valueCodeableConcept": {"text": goal.profession}})
    categories = [{"coding": [{"system": GOAL_KIND_SYSTEM, "code": goal.kind, "display": GOAL_KINDS.get(goal.kind)}]}]
    kl = KL_CATEGORIES.get("sub-goal" if goal.part_of and goal.kind == "functional" else goal.kind)
    if kl is not None:
        categories.append({"coding": [{"system": KL_CARE_SOCIAL_SYSTEM, "code": kl[0], "display": kl[1]}]})
    resource |= {"lifecycleStatus": goal.status, "category": categories, "description": {"text": goal.description}}
    if goal.achievement:
        achievement = {"system": GOAL_ACHIEVEMENT_SYSTEM, "code": goal.achievement}
        resource["achievementStatus"] = {"coding": [achievement]}
    resource["startDate"] = goal.start.isoformat()
    if goal.expressed_by in EXPRESSED_BY:
        resource["expressedBy"] = {"type": EXPRESSED_BY[goal.expressed_by]}
    if goal.due:
        resource["target"] = [{"dueDate": goal.due.isoformat()}]
    if goal.addresses:
        resource["addresses"] = _refs("Condition", goal.addresses)
    return resource


def _condition(condition: Condition, organisation: OrganisationRender) -> dict[str, Any]:
    owner = organisation(condition.organisation_sor)
    recorded = condition.recorded_value or condition.recorded.isoformat()
    system = CODE_SYSTEMS["SKS-D"] if condition.system == "SKS" else CODE_SYSTEMS.get(condition.system)
    coding: dict[str, str] = {"system": system or condition.system, "code": condition.code}
    if condition.system == "SNOMED":
        coding["version"] = SNOMED_DK_EDITION
    coding["display"] = condition.display
    return {
        "resourceType": "Condition",
        **_common(condition.id, condition.cpr, owner),
        "clinicalStatus": {"coding": [{"system": CLINICAL_STATUS_SYSTEM, "code": condition.clinical_status}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY_SYSTEM, "code": condition.category}]}],
        "code": {"coding": [coding], "text": condition.display},
        **({} if condition.recorded_value == "" else {"recordedDate": recorded}),
        **(condition.onset or {}),
        **(condition.wire or {}),
    }
