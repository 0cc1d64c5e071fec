"""Per-request DataLoaders over the batch-first adapters.

Built once per request inside the running loop (aiodataloader captures the loop). A source failure
rejects every key of that batch with the :class:`~sources.errors.SourceError`, so each field that
awaited it becomes ``null`` with a coded error while the rest of the overview resolves; an adapter
that could not read one key's entry answers that key with its error (:mod:`sources.keyed`), which
rejects only that key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from functools import cached_property
from typing import Generic, TypeVar

from aiodataloader import DataLoader

from resolvers.gather import GroupLoader, appointment_loader, plan_loader
from resolvers.plans import keep_condition, keep_goal, keep_plan
from sources.clinical import AppointmentRecord, CarePlanRecord, ConditionRecord, GoalRecord, OrganisationKind
from sources.errors import SourceError
from sources.models import (
    BlockRecord,
    GpAssignmentRecord,
    MasterCardRecord,
    PersonRecord,
    PracticeRecord,
    RegisterDetailsRecord,
    RegistrationsRecord,
)
from sources.registry import Sources

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BatchLoader(DataLoader[K, V | None], Generic[K, V]):
    """A loader over one batch-first adapter method; missing keys load as ``None``."""

    def __init__(self, fetch: Callable[[Sequence[K]], Awaitable[Mapping[K, V | SourceError | None]]]) -> None:
        super().__init__()
        self._fetch = fetch

    async def batch_load_fn(self, keys: list[K]) -> list[V | SourceError | None]:  # type: ignore[override]
        # A returned exception rejects only its own key (aiodataloader semantics).
        try:
            found = await self._fetch(keys)
        except SourceError as exc:
            return [exc for _ in keys]
        return [found.get(key) for key in keys]

    async def get(self, key: K) -> V | None:
        """Load one key (typed wrapper of ``load``)."""
        value: V | None = await self.load(key)
        return value


class Loaders:
    """Every loader of one request, each made the first time the request asks for it.

    No cache ever crosses requests or users. An overview asks for five of the loaders; making the rest
    (one per appointment and plan endpoint among them) for every request cost more than it used.
    """

    def __init__(self, sources: Sources) -> None:
        self._sources = sources

    @classmethod
    def for_request(cls, sources: Sources) -> Loaders:
        """Fresh loaders for one request (made inside its running event loop, as aiodataloader needs)."""
        return cls(sources)

    @cached_property
    def persons(self) -> BatchLoader[str, PersonRecord]:
        return BatchLoader(self._sources.cpr.read_persons)

    @cached_property
    def gp_assignments(self) -> BatchLoader[str, GpAssignmentRecord]:
        return BatchLoader(self._sources.yderregister.gp_assignments_for)

    @cached_property
    def practices(self) -> BatchLoader[str, PracticeRecord]:
        return BatchLoader(self._sources.yderregister.practices_for)

    @cached_property
    def master_cards(self) -> BatchLoader[str, MasterCardRecord]:
        return BatchLoader(self._sources.stamkort.master_cards_for)

    @cached_property
    def registrations(self) -> BatchLoader[str, RegistrationsRecord]:
        return BatchLoader(self._sources.registers.registrations_for)

    @cached_property
    def register_details(self) -> BatchLoader[str, RegisterDetailsRecord]:
        return BatchLoader(self._sources.registers.details_for)

    @cached_property
    def blocks(self) -> BatchLoader[str, list[BlockRecord]]:
        """The patient's own blocks (Min Spærring), for ``Patient.blocks`` and the revoke check."""
        return BatchLoader(self._sources.consent.blocks_for)

    @cached_property
    def sectors(self) -> BatchLoader[str, OrganisationKind]:
        """A place's sector by SOR code, from the SOR register, for name and address protection."""
        return BatchLoader(self._sources.sor.sectors_of)

    @cached_property
    def appointments(self) -> GroupLoader[AppointmentRecord]:
        return appointment_loader(self._sources.appointments)

    @cached_property
    def care_plans(self) -> GroupLoader[CarePlanRecord]:
        return plan_loader([(p.endpoint, p.care_plans_for) for p in self._sources.plans], keep_plan)

    @cached_property
    def goals(self) -> GroupLoader[GoalRecord]:
        return plan_loader([(p.endpoint, p.goals_for) for p in self._sources.plans], keep_goal)

    @cached_property
    def conditions(self) -> GroupLoader[ConditionRecord]:
        return plan_loader([(p.endpoint, p.conditions_for) for p in self._sources.plans], keep_condition)
