"""Load what the decision needs, in as few upstream calls as possible, all before execution.

For each round of patients, concurrently and batched:

- for a citizen asking about someone else: the patient's CPR identity (custody holders, guardians,
  birth date, status) and the caller's powers of attorney from the patient. A changed number (status
  60 with PNRGAELD) is followed to the current one, which is decided instead (ADR 0006). For clinical
  callers CPR is not read before the decision (it would fetch data before access is known): they
  follow a changed number through ``Person.replacedBy``;
- treatment relations and blocks (professionals, assistants, systems).

Then, once, the SOR sub-units of organisations blocked with their sub-units (skipped for patients
whose blocks an override lifts, and for patients the caller has no treatment relation to). A failed
source leaves its facts ``None`` and names itself and how it failed (:class:`~sources.errors.SourceFailure`),
so the policy fails closed where it needed them, with the code of that failure. All of it is the request's
first wave of upstream calls (:data:`~sources.deadline.Wave.DECISION`): it may use the request's deadline
but for the least time of a call kept for each wave after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol, TypeVar

from auth.actor import Actor, ActorKind
from auth.policy import DecisionFacts, organisations_needing_subunits
from sources.errors import SourceError, SourceFailure
from sources.identifiers import is_cpr
from sources.models import BlockRecord, PersonRecord, PowerOfAttorneyRecord, RelationQuery, TreatmentRelationRecord

T = TypeVar("T")
MAX_HOPS = 3
"""How many changed numbers in a row are followed."""
CHANGED_NUMBER = "60"


class BlockSource(Protocol):
    async def blocks_for(self, cprs: Sequence[str]) -> Mapping[str, list[BlockRecord]]: ...


class SubunitSource(Protocol):
    async def subunits_of(self, sors: Sequence[str]) -> Mapping[str, frozenset[str]]: ...


class RelationSource(Protocol):
    async def relations_for(
        self, queries: Sequence[RelationQuery]
    ) -> Mapping[RelationQuery, TreatmentRelationRecord]: ...


class PersonSource(Protocol):
    async def persons_for(self, cprs: Sequence[str]) -> Mapping[str, PersonRecord | None]: ...


class PowerSource(Protocol):
    async def powers_for(
        self, holder_cpr: str, giver_cprs: Sequence[str]
    ) -> Mapping[str, list[PowerOfAttorneyRecord]]: ...


@dataclass(frozen=True)
class FactSources:
    """The sources the decision reads."""

    blocks: BlockSource
    relations: RelationSource
    organisations: SubunitSource
    """The SOR hierarchy, for blocks on a treatment place including its sub-units."""
    persons: PersonSource
    powers: PowerSource


@dataclass
class LoadedFacts:
    """The facts per current CPR number, the CPR records loaded, and changed numbers followed."""

    facts: dict[str, DecisionFacts] = field(default_factory=dict)
    persons: dict[str, PersonRecord] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)


async def load_facts(
    actor: Actor, cprs: Sequence[str], sources: FactSources, on: date, lifted: set[str] | frozenset[str] = frozenset()
) -> LoadedFacts:
    """Everything the decision needs for ``cprs`` (``lifted``: patients whose blocks an override lifts)."""
    loaded = LoadedFacts()
    if actor.kind not in (ActorKind.CITIZEN, ActorKind.PROFESSIONAL, ActorKind.SYSTEM):
        return loaded
    pending = list(dict.fromkeys(cprs))
    partial: dict[str, DecisionFacts] = {}
    for _ in range(MAX_HOPS + 1):
        if not pending:
            break
        round_facts, persons = await _round(actor, pending, sources)
        partial.update(round_facts)
        loaded.persons.update(persons)
        pending = []
        for cpr, person in persons.items():
            target = person.replaced_by
            if person.status == CHANGED_NUMBER and target and is_cpr(target) and target != cpr:
                loaded.aliases[cpr] = target
                if target not in partial:
                    pending.append(target)
    loaded.aliases = {old: _final(old, loaded.aliases) for old in loaded.aliases}
    current = {loaded.aliases.get(c, c) for c in cprs}
    lifted_current = {loaded.aliases.get(c, c) for c in lifted}
    # Sub-units matter only where blocks narrow what the caller sees: not where an override lifts them,
    # and not where there is no treatment relation (refused anyway, and asking would tell, by the number
    # of calls, that a person with such blocks exists).
    deciding = [f for c, f in partial.items() if c in current and c not in lifted_current and f.has_relation]
    subunits, failed = await _subunits(deciding, sources, on)
    for cpr in current:
        facts = partial.get(cpr, DecisionFacts())
        loaded.facts[cpr] = replace(facts, failure=facts.failure or failed, subunits=subunits)
    return loaded


def _final(cpr: str, aliases: Mapping[str, str]) -> str:
    seen = {cpr}
    while cpr in aliases and aliases[cpr] not in seen:
        cpr = aliases[cpr]
        seen.add(cpr)
    return cpr


async def _round(
    actor: Actor, cprs: list[str], sources: FactSources
) -> tuple[dict[str, DecisionFacts], dict[str, PersonRecord]]:
    """One batched call per needed source for ``cprs``, all at once."""
    clinical = actor.is_clinical
    others = [c for c in cprs if c != actor.cpr] if actor.kind is ActorKind.CITIZEN else cprs
    calls: dict[str, Awaitable[Any]] = {}
    if actor.kind is ActorKind.CITIZEN and others and actor.cpr:
        calls["cpr"] = sources.persons.persons_for(others)
        calls["fuldmagt"] = sources.powers.powers_for(actor.cpr, others)
    queries = [RelationQuery(cpr, actor.authorization_id or "", actor.organisation_sor) for cpr in cprs]
    if clinical:
        calls["treatment_relation"] = sources.relations.relations_for(queries)
        calls["consent"] = sources.blocks.blocks_for(cprs)
    results = dict(zip(calls, await asyncio.gather(*calls.values(), return_exceptions=True), strict=True))
    for result in results.values():
        if isinstance(result, BaseException) and not isinstance(result, SourceError):
            raise result
    failed = {name: r.failure for name, r in results.items() if isinstance(r, SourceError)}
    persons: Mapping[str, PersonRecord | None] = _ok(results.get("cpr")) or {}
    powers: Mapping[str, list[PowerOfAttorneyRecord]] | None = _ok(results.get("fuldmagt"))
    relations: Mapping[RelationQuery, TreatmentRelationRecord] | None = _ok(results.get("treatment_relation"))
    blocks: Mapping[str, list[BlockRecord]] | None = _ok(results.get("consent"))
    facts: dict[str, DecisionFacts] = {}
    for query in queries:
        cpr = query.cpr
        relation = relations.get(query) if relations is not None else None
        facts[cpr] = DecisionFacts(
            has_relation=None if relation is None else relation.has_relation,
            blocks=tuple(blocks.get(cpr, ())) if blocks is not None else None,
            failure=_first_failed(failed, clinical),
            person=persons.get(cpr),
            powers=tuple(powers.get(cpr, ())) if powers is not None else None,
        )
    return facts, {c: p for c, p in persons.items() if p is not None}


def _ok(result: object) -> Any:
    return None if result is None or isinstance(result, BaseException) else result


def _first_failed(failed: Mapping[str, SourceFailure], clinical: bool) -> SourceFailure | None:
    """The source to name when the decision fails closed (CPR only matters to citizens acting for others)."""
    order = ("treatment_relation", "consent") if clinical else ("fuldmagt", "cpr")
    return next((failed[name] for name in order if name in failed), None)


async def _subunits(
    facts: list[DecisionFacts], sources: FactSources, on: date
) -> tuple[Mapping[str, frozenset[str]] | None, SourceFailure | None]:
    needed = organisations_needing_subunits((b for f in facts for b in f.blocks or ()), on)
    if not needed:
        return {}, None
    try:
        return await sources.organisations.subunits_of(sorted(needed)), None
    except SourceError as exc:
        return None, exc.failure
