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
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import Field, ValidationError

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
from sources.identifiers import distinct_cprs
from sources.payloads import CPR_SYSTEM, FhirModel, ShapeError

__all__ = ["MAX_PAGES", "PlanSource"]

MAX_PAGES = 20
"""Pages one search may take; an upstream that pages on is answered as invalid, not truncated."""

BASE_PATH = "/fhir"
_SOR = re.compile(r"[0-9]+")

_Resource = TypeVar("_Resource", wire.CarePlan, wire.Goal, wire.Condition)
_Record = TypeVar("_Record", CarePlanRecord, GoalRecord, ConditionRecord)

_CANCELLED = frozenset({"revoked", "cancelled", "rejected"})


class _Link(FhirModel):
    relation: str
    url: str = Field(min_length=1)


class _Entry(FhirModel):
    resource: dict[str, Any]


class _Bundle(FhirModel):
    resource_type: Literal["Bundle"]
    link: list[_Link] = Field(default_factory=list)
    entry: list[_Entry] = Field(default_factory=list)

    def next_url(self) -> str | None:
        return next((link.url for link in self.link if link.relation == "next"), None)


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
        if not wanted or search.window.empty or self._endpoint_excluded(search):
            return result
        raw = await self._search(resource_type, self._query(search, wanted, date_param))
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

    def _endpoint_excluded(self, search: ClinicalSearch) -> bool:
        owner = self.endpoint.organisation_sor
        return owner is not None and owner in search.exclude_organisations

    def _query(self, search: ClinicalSearch, cprs: list[str], date_param: str) -> list[tuple[str, str]]:
        query = [("patient.identifier", f"{CPR_SYSTEM}|{','.join(cprs)}")]
        if search.window.start is not None:
            query.append((date_param, f"ge{search.window.start.isoformat()}"))
        if search.window.end is not None:
            query.append((date_param, f"lt{search.window.end.isoformat()}"))
        query.extend(
            ("custodian:not", f"{wire.SOR_SYSTEM}|{sor}")
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

    async def _search(self, resource_type: str, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Every entry of ``resource_type`` of the search, page after page."""
        path = f"{BASE_PATH}/{resource_type}"
        target = f"{path}?{urlencode(query)}"
        resources: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            payload = await self._client.get_json(target)
            try:
                bundle = _Bundle.model_validate(payload)
            except ValidationError as exc:
                raise self._client.invalid(f"{resource_type} bundle failed validation") from exc
            resources.extend(e.resource for e in bundle.entry if e.resource.get("resourceType") == resource_type)
            next_url = bundle.next_url()
            if next_url is None:
                return resources
            target = self._same_search(next_url, path)
        raise self._client.invalid("search pages beyond the page limit")

    def _same_search(self, link: str, path: str) -> str:
        """A next link as a path + query on this source; refused when it leaves the source or the search."""
        base = httpx.URL(self._client.config.base_url)
        try:
            url = base.join(link)
        except httpx.InvalidURL as exc:
            raise self._client.invalid("next link is not a URL") from exc
        prefix = base.path.rstrip("/")
        same_origin = (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)
        if not same_origin or url.path != prefix + path:
            raise self._client.invalid("next link leaves the search")
        return f"{path}?{url.query.decode('ascii')}"
