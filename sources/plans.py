"""Plan sources (GP forløbsplaner, municipal and hospital plans): FHIR R4 ``CarePlan``, ``Goal``, ``Condition``.

One :class:`PlanSource` per configured endpoint. Each batch method is one FHIR search for every asked
CPR number, following ``link[relation=next]`` for at most :data:`MAX_PAGES` pages. The search's
window and excluded organisations are pushed down as search parameters, and applied again on the
way out, so an upstream that ignores them cannot widen what the gateway returns. Resources are
validated one at a time with pydantic (``sources/plan_payloads.py``): a resource that fails
validation, has no CPR subject, or names a patient that was not asked for is left out and named in
the answer's problems, never the whole answer. Wire format: ``docs/sources/plans.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from pydantic import ValidationError

from sources import plan_payloads as wire
from sources.base import SourceClient
from sources.clinical import (
    CarePlanRecord,
    ClinicalSearch,
    ConditionRecord,
    Endpoint,
    GoalRecord,
    ItemsAnswer,
    OrganisationKind,
    Problem,
)
from sources.datatypes import patient_cpr, resolve
from sources.fhir_search import MAX_PAGES, SearchAnswer, excluded_pairs, search_resources, window_pairs
from sources.identifiers import distinct_cprs
from sources.payloads import CPR_SYSTEM, ShapeError

__all__ = ["MAX_PAGES", "PlanSource"]

BASE_PATH = "/fhir"
PLAN_START_PARAMETER = "period-start"
"""Our ``SearchParameter`` on ``CarePlan.period.start`` (type date): plans that *started* in a window."""

_Resource = TypeVar("_Resource", wire.CarePlan, wire.Goal, wire.Condition)
_Record = TypeVar("_Record", CarePlanRecord, GoalRecord, ConditionRecord)

_CANCELLED = frozenset({"revoked", "cancelled", "rejected"})


class PlanSource:
    """One plan endpoint: plans with their interventions, goals and diagnoses for many patients."""

    def __init__(self, client: SourceClient, endpoint: Endpoint, *, page_size: int = 50) -> None:
        if not 1 <= page_size <= 500:
            raise ValueError("page_size must be between 1 and 500")
        self.endpoint = endpoint
        self._client = client
        self._page_size = page_size

    async def care_plans_for(self, search: ClinicalSearch) -> ItemsAnswer[CarePlanRecord]:
        """Each asked CPR's plans whose period starts in the window (``[]`` when none).

        The window is pushed down as ``period-start`` (exact) when the endpoint supports it, else as
        FHIR's ``date`` (overlap: plans still running in the window come back and are dropped here).
        """
        date_param = PLAN_START_PARAMETER if self.endpoint.plan_start_search else "date"
        return await self._fetch(search, "CarePlan", date_param, wire.CarePlan, wire.care_plan_record)

    async def goals_for(self, search: ClinicalSearch) -> ItemsAnswer[GoalRecord]:
        """Each asked CPR's goals and sub-goals starting in the window (``[]`` when none)."""
        return await self._fetch(search, "Goal", "start-date", wire.Goal, wire.goal_record)

    async def conditions_for(self, search: ClinicalSearch) -> ItemsAnswer[ConditionRecord]:
        """Each asked CPR's diagnoses recorded in the window (``[]`` when none)."""
        return await self._fetch(search, "Condition", "recorded-date", wire.Condition, wire.condition_record)

    async def _fetch(
        self,
        search: ClinicalSearch,
        resource_type: str,
        date_param: str,
        model: type[_Resource],
        to_record: Callable[[_Resource, str, str, OrganisationKind | None], _Record],
    ) -> ItemsAnswer[_Record]:
        wanted = distinct_cprs(search.cprs)
        result: dict[str, list[_Record]] = {cpr: [] for cpr in wanted}
        if not wanted or search.window.empty:
            return ItemsAnswer(result)
        found = await search_resources(
            self._client,
            f"{BASE_PATH}/{resource_type}",
            self._query(search, wanted, date_param),
            max_pages=self.endpoint.max_pages,
        )
        problems = [Problem(error) for error in found.problems]
        problems += [Problem(self._client.invalid("a search entry was not a resource"))] * found.unreadable
        seen: set[str] = set()
        for item in found.resources:
            if item.get("resourceType") != resource_type:
                continue
            try:
                resource = model.model_validate(item)
                cpr = _subject(resource, found)
                record = to_record(resource, cpr, self.endpoint.name, self.endpoint.kind)
            except (ValidationError, ShapeError) as exc:
                detail = str(exc) if isinstance(exc, ShapeError) else "it failed validation"
                problems.append(Problem(self._client.invalid(f"a {resource_type} was left out: {detail}")))
                continue
            if record.cpr not in result:
                problems.append(Problem(self._client.invalid(f"a {resource_type} names a patient not asked for")))
                continue
            if resource.id in seen:
                continue
            seen.add(resource.id)
            if self._keep(search, resource, record):
                result[record.cpr].append(record)
        return ItemsAnswer(result, tuple(problems))

    def _query(self, search: ClinicalSearch, cprs: list[str], date_param: str) -> list[tuple[str, str]]:
        query = [("patient.identifier", f"{CPR_SYSTEM}|{','.join(cprs)}"), *window_pairs(date_param, search.window)]
        query.extend(excluded_pairs("custodian:not", search.exclude_organisations))
        query.append(("_count", str(self._page_size)))
        return query

    @staticmethod
    def _keep(search: ClinicalSearch, resource: _Resource, record: _Record) -> bool:
        """Whether a parsed item may be returned: organisation, window and status checked again."""
        excluded = search.exclude_organisations
        sors: Iterable[str | None] = (record.organisation.sor,)
        if isinstance(resource, wire.CarePlan) and resource.author is not None:
            author = wire.organisation(resource.author)
            sors = (record.organisation.sor, author.sor if author else None)
        if any(sor in excluded for sor in sors if sor is not None):
            return False
        if record.dated is not None and not search.window.overlaps(record.dated):
            return False
        if isinstance(resource, wire.Condition):
            status = "entered-in-error" if wire.entered_in_error(resource) else None
        else:
            status = resource.status if isinstance(resource, wire.CarePlan) else resource.lifecycle_status
        if status == "entered-in-error":
            return False
        return search.include_cancelled or status not in _CANCELLED


def _subject(resource: _Resource, found: SearchAnswer) -> str:
    """The CPR number of the item's patient: ``subject`` must be a ``Patient`` with one CPR number."""
    kind, target = resolve(resource.subject, resource.contained, found.included, found.base)
    cpr = patient_cpr(resource.subject, target) if kind in (None, "Patient") else None
    if cpr is None:
        raise ShapeError("resource without a CPR subject")
    return cpr
