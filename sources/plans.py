"""Plan sources (GP forløbsplaner, municipal and hospital plans): FHIR R4 ``CarePlan``, ``Goal``, ``Condition``.

One :class:`PlanSource` per configured endpoint. Each batch method is one FHIR search for every asked
CPR number, following ``link[relation=next]`` for at most :data:`MAX_PAGES` pages. The search's
window and excluded organisations are pushed down as search parameters, and applied again on the
way out, so an upstream that ignores them cannot widen what the gateway returns. Resources are
validated with pydantic (``sources/plan_payloads.py``); a payload that fails validation, names a
patient that was not asked for, or pages without end makes the whole answer
:class:`~sources.errors.SourceResponseInvalid`, never a half-parsed result.
Wire format: ``docs/sources/plans.md``.
"""

from __future__ import annotations

import re
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
    OrganisationKind,
)
from sources.fhir_search import MAX_PAGES, search_resources, window_pairs
from sources.identifiers import distinct_cprs
from sources.payloads import CPR_SYSTEM, SOR_SYSTEM, ShapeError

__all__ = ["MAX_PAGES", "PlanSource"]

"""Pages one search may take; an upstream that pages on is answered as invalid, not truncated."""

BASE_PATH = "/fhir"
_SOR = re.compile(r"[0-9]+")

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

    async def care_plans_for(self, search: ClinicalSearch) -> dict[str, list[CarePlanRecord]]:
        """Each asked CPR's plans whose period starts in the window (``[]`` when none)."""
        return await self._fetch(search, "CarePlan", "date", wire.CarePlan, wire.care_plan_record)

    async def goals_for(self, search: ClinicalSearch) -> dict[str, list[GoalRecord]]:
        """Each asked CPR's goals and sub-goals starting in the window (``[]`` when none)."""
        return await self._fetch(search, "Goal", "start-date", wire.Goal, wire.goal_record)

    async def conditions_for(self, search: ClinicalSearch) -> dict[str, list[ConditionRecord]]:
        """Each asked CPR's diagnoses recorded in the window (``[]`` when none)."""
        return await self._fetch(search, "Condition", "recorded-date", wire.Condition, wire.condition_record)

    async def _fetch(
        self,
        search: ClinicalSearch,
        resource_type: str,
        date_param: str,
        model: type[_Resource],
        to_record: Callable[[_Resource, str, OrganisationKind | None], _Record],
    ) -> dict[str, list[_Record]]:
        wanted = distinct_cprs(search.cprs)
        result: dict[str, list[_Record]] = {cpr: [] for cpr in wanted}
        if not wanted or search.window.empty:
            return result
        found = await search_resources(
            self._client, f"{BASE_PATH}/{resource_type}", self._query(search, wanted, date_param), max_pages=MAX_PAGES
        )
        raw = [r for r in found if r.get("resourceType") == resource_type]
        seen: set[str] = set()
        try:
            for item in raw:
                resource = model.model_validate(item)
                if resource.id in seen:
                    continue
                seen.add(resource.id)
                record = to_record(resource, self.endpoint.name, self.endpoint.kind)
                if record.cpr not in result:
                    raise ShapeError("resource for a patient that was not asked for")
                if self._keep(search, resource, record):
                    result[record.cpr].append(record)
        except ValidationError as exc:
            raise self._client.invalid(f"{resource_type} failed validation") from exc
        except ShapeError as exc:
            raise self._client.invalid(str(exc)) from exc
        return result

    def _query(self, search: ClinicalSearch, cprs: list[str], date_param: str) -> list[tuple[str, str]]:
        query = [("patient.identifier", f"{CPR_SYSTEM}|{','.join(cprs)}"), *window_pairs(date_param, search.window)]
        query.extend(
            ("custodian:not", f"{SOR_SYSTEM}|{sor}")
            for sor in sorted(search.exclude_organisations)
            if _SOR.fullmatch(sor)
        )
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
        if record.day is not None and not search.window.contains(record.day):
            return False
        if isinstance(resource, wire.Condition):
            status = "entered-in-error" if wire.entered_in_error(resource) else None
        else:
            status = resource.status if isinstance(resource, wire.CarePlan) else resource.lifecycle_status
        if status == "entered-in-error":
            return False
        return search.include_cancelled or status not in _CANCELLED
