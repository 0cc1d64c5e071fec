"""Per-request DataLoaders over the batch-first adapters.

Built once per request inside the running loop (aiodataloader captures the loop). A source failure
rejects every key of that batch with the :class:`~sources.errors.SourceError`, so each field that
awaited it becomes ``null`` with a coded error while the rest of the overview resolves; an adapter
that could not read one key's entry answers that key with its error (:mod:`sources.keyed`), which
rejects only that key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
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


@dataclass
class Loaders:
    """Every loader of one request."""

    persons: BatchLoader[str, PersonRecord]
    gp_assignments: BatchLoader[str, GpAssignmentRecord]
    practices: BatchLoader[str, PracticeRecord]
    master_cards: BatchLoader[str, MasterCardRecord]
    registrations: BatchLoader[str, RegistrationsRecord]
    register_details: BatchLoader[str, RegisterDetailsRecord]
    blocks: BatchLoader[str, list[BlockRecord]]
    """The patient's own blocks (Min Spærring), for ``Patient.blocks`` and the revoke check."""
    sectors: BatchLoader[str, OrganisationKind]
    """A place's sector by SOR code, from the SOR register, for name and address protection."""
    appointments: GroupLoader[AppointmentRecord]
    care_plans: GroupLoader[CarePlanRecord]
    goals: GroupLoader[GoalRecord]
    conditions: GroupLoader[ConditionRecord]

    @classmethod
    def for_request(cls, sources: Sources) -> Loaders:
        """Fresh loaders for one request: no cache ever crosses requests or users."""
        return cls(
            persons=BatchLoader(sources.cpr.read_persons),
            gp_assignments=BatchLoader(sources.yderregister.gp_assignments_for),
            practices=BatchLoader(sources.yderregister.practices_for),
            master_cards=BatchLoader(sources.stamkort.master_cards_for),
            registrations=BatchLoader(sources.registers.registrations_for),
            register_details=BatchLoader(sources.registers.details_for),
            blocks=BatchLoader(sources.consent.blocks_for),
            sectors=BatchLoader(sources.sor.sectors_of),
            appointments=appointment_loader(sources.appointments),
            care_plans=plan_loader([(p.endpoint, p.care_plans_for) for p in sources.plans], keep_plan),
            goals=plan_loader([(p.endpoint, p.goals_for) for p in sources.plans], keep_goal),
            conditions=plan_loader([(p.endpoint, p.conditions_for) for p in sources.plans], keep_condition),
        )
