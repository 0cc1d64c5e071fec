"""Fetch one kind of item from many endpoints at once, with the access filter pushed down.

For every search the caller's :class:`~sources.clinical.ItemFilter` is applied three times: an
endpoint that is wholly blocked is not asked at all, the date window is cut around blocked data
periods (one upstream search per remaining piece), and blocked organisations travel in the search
so the upstream leaves them out. Whatever comes back is filtered again on the way out, and an item
two window pieces both returned (a partial date straddling a cut) is kept once. Each endpoint
answers or fails on its own: a failure becomes an error naming that endpoint next to the others'
items, never an empty list that looks complete; so does an endpoint's answer that lacks something
(an item it could not accept, a page budget that ran out, an error it reported), for the patients
it concerns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from aiodataloader import DataLoader

from sources.clinical import (
    AppointmentRecord,
    AppointmentSource,
    ClinicalSearch,
    DateWindow,
    Endpoint,
    ItemFilter,
    ItemsAnswer,
    OrganisationKind,
)
from sources.errors import SourceError

T = TypeVar("T")


class SourceItem(Protocol):
    """An item of a plan source: its endpoint and its id there identify it."""

    @property
    def id(self) -> str: ...
    @property
    def source(self) -> str: ...


Item = TypeVar("Item", bound=SourceItem)


@dataclass
class Gathered(Generic[T]):
    """One patient's items from every endpoint asked, and the endpoints that failed."""

    items: list[T] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class GatherKey:
    """One patient's search: window, access filter, and the search options that reach the source."""

    cpr: str
    window: DateWindow
    item_filter: ItemFilter
    include_cancelled: bool = True
    kinds: frozenset[OrganisationKind] | None = None
    """Only endpoints of these sectors (endpoints of unknown sector are always asked)."""
    changed_since: datetime | None = None
    """Only items changed at or after this instant (a subscription's poll); ``None``: every item."""


def endpoints_to_ask(endpoints: Iterable[Endpoint], key: GatherKey) -> list[Endpoint]:
    """The endpoints worth asking: not wholly blocked, and of a requested sector."""
    return [
        e
        for e in endpoints
        if not key.item_filter.skips_endpoint(e) and (key.kinds is None or e.kind is None or e.kind in key.kinds)
    ]


def searches(key: GatherKey, cprs: Sequence[str]) -> list[ClinicalSearch]:
    """One upstream search per window piece left after cutting out blocked periods."""
    excluded = key.item_filter.excluded_organisations
    visible = tuple(key.item_filter.windows(DateWindow()))
    return [
        ClinicalSearch(tuple(cprs), piece, excluded, key.include_cancelled, visible, key.changed_since)
        for piece in key.item_filter.windows(key.window)
    ]


def appointment_allowed(record: AppointmentRecord, item_filter: ItemFilter, window: DateWindow) -> bool:
    """The way-out check: inside the window, and neither performer nor place blocked."""
    if not window.contains(record.day):
        return False
    location = record.location.sor if record.location is not None else None
    dated = record.dated
    return item_filter.allows(record.organisation.sor, dated) and (
        location is None or item_filter.allows(location, dated)
    )


def merge_appointments(records: Iterable[AppointmentRecord]) -> list[AppointmentRecord]:
    """One list: de-duplicated by stable ID (the newest version wins), sorted by start (an instant), then ID."""
    newest: dict[str, AppointmentRecord] = {}
    for record in records:
        current = newest.get(record.id)
        if current is None or _newer(record, current):
            newest[record.id] = record
    return sorted(newest.values(), key=lambda r: (r.start, r.id))


def _newer(candidate: AppointmentRecord, current: AppointmentRecord) -> bool:
    if candidate.version != current.version:
        return candidate.version > current.version
    if candidate.updated is not None and current.updated is not None:
        return candidate.updated > current.updated
    return False


class GroupLoader(DataLoader[GatherKey, Gathered[T]], Generic[T]):
    """Batches patients with the same search options into one search per endpoint and window."""

    def __init__(self, fetch: Callable[[GatherKey, Sequence[str]], Awaitable[dict[str, Gathered[T]]]]) -> None:
        super().__init__()
        self._fetch = fetch

    async def batch_load_fn(self, keys: list[GatherKey]) -> list[Gathered[T]]:
        groups: dict[Hashable, list[GatherKey]] = {}
        for key in keys:
            options = (key.window, key.item_filter, key.include_cancelled, key.kinds, key.changed_since)
            groups.setdefault(options, []).append(key)
        answers: dict[GatherKey, Gathered[T]] = {}
        for group in groups.values():
            found = await self._fetch(group[0], [k.cpr for k in group])
            for key in group:
                answers[key] = found.get(key.cpr, Gathered())
        return [answers[key] for key in keys]

    async def get(self, key: GatherKey) -> Gathered[T]:
        value: Gathered[T] = await self.load(key)
        return value


Search = Callable[[ClinicalSearch], Awaitable[ItemsAnswer[T]]]
"""One endpoint's search: items per asked CPR, and what the answer lacks."""


def distinct_items(items: list[Item]) -> list[Item]:
    """Each item once, by source and id (two window pieces may both return an item), in first-seen order."""
    seen: set[tuple[str, str]] = set()
    kept: list[Item] = []
    for item in items:
        if (item.source, item.id) not in seen:
            seen.add((item.source, item.id))
            kept.append(item)
    return kept


def item_loader(
    endpoints: Sequence[tuple[Endpoint, Search[T]]],
    keep: Callable[[T, GatherKey], T | None],
    finish: Callable[[list[T]], list[T]] = list,
) -> GroupLoader[T]:
    """A loader of one kind of item over many endpoints, each asked on its own.

    ``keep`` is the way-out check: it returns the item (possibly with blocked parts removed) or
    ``None`` when the caller may not see it. ``finish`` shapes each patient's merged list.
    """

    async def fetch(key: GatherKey, cprs: Sequence[str]) -> dict[str, Gathered[T]]:
        wanted = endpoints_to_ask((e for e, _ in endpoints), key)
        asked = [(e, search_fn) for e, search_fn in endpoints if e in wanted]
        plan = [(e, search_fn, search) for e, search_fn in asked for search in searches(key, cprs)]
        answers = await asyncio.gather(*(fn(search) for _, fn, search in plan), return_exceptions=True)
        result = {cpr: Gathered[T](asked=[e.name for e, _ in asked]) for cpr in cprs}
        failed: dict[str, dict[tuple[str, type[SourceError]], SourceError]] = {cpr: {} for cpr in cprs}
        for (endpoint, _, _), answer in zip(plan, answers, strict=True):
            if isinstance(answer, BaseException) and not isinstance(answer, SourceError):
                raise answer
            for cpr in cprs:
                errors = [answer] if isinstance(answer, SourceError) else answer.problems_for(cpr)
                for error in errors:
                    failed[cpr].setdefault((endpoint.name, type(error)), error)
            if isinstance(answer, SourceError):
                continue
            for cpr, items in answer.by_patient.items():
                if cpr in result:
                    result[cpr].items.extend(k for item in items if (k := keep(item, key)) is not None)
        for cpr, gathered in result.items():
            gathered.errors = list(failed[cpr].values())
            gathered.items = finish(gathered.items)
        return result

    return GroupLoader(fetch)


def appointment_loader(sources: Sequence[AppointmentSource]) -> GroupLoader[AppointmentRecord]:
    """The per-request loader of merged appointments over every appointment endpoint."""

    def keep(record: AppointmentRecord, key: GatherKey) -> AppointmentRecord | None:
        return record if appointment_allowed(record, key.item_filter, key.window) else None

    return item_loader([(s.endpoint, s.appointments_for) for s in sources], keep, merge_appointments)


def plan_loader(
    endpoints: Sequence[tuple[Endpoint, Search[Item]]],
    keep: Callable[[Item, ItemFilter], Item | None],
) -> GroupLoader[Item]:
    """A loader of plan items (plans, goals or diagnoses) over every plan source, each item once."""
    return item_loader(list(endpoints), lambda item, key: keep(item, key.item_filter), distinct_items)
