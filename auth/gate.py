"""The consent gate: access decided once per request, from the parsed operation, before execution.

``ConsentGate`` is a strawberry schema extension. In ``on_execute``, before any resolver runs, it
reads which patients and data categories the operation selects (:mod:`auth.operation`), loads what
the decision needs (treatment relations and blocks, one batched call each, only for
professionals), decides with :mod:`auth.policy` and puts the :class:`~auth.plan.AccessPlan` on the
request context. After execution, and before the response leaves, it writes one access record per
patient; if that write fails, the request fails closed with no data.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from strawberry.extensions import SchemaExtension

from auth.access_log import AccessLog, AccessRecord
from auth.actor import Actor
from auth.errors import AccessRecordFailed
from auth.operation import OperationReader, PatientCategories
from auth.plan import AccessPlan, PatientAccess
from auth.policy import DecisionFacts, decide, needs_facts, organisations_needing_subunits
from sources.errors import SourceError
from sources.models import BlockRecord, RelationQuery, TreatmentRelationRecord
from sources.payloads import COPENHAGEN


class BlockSource(Protocol):
    async def blocks_for(self, cprs: Sequence[str]) -> Mapping[str, list[BlockRecord]]: ...


class SubunitSource(Protocol):
    async def subunits_of(self, sors: Sequence[str]) -> Mapping[str, frozenset[str]]: ...


class RelationSource(Protocol):
    async def relations_for(
        self, queries: Sequence[RelationQuery]
    ) -> Mapping[RelationQuery, TreatmentRelationRecord]: ...


@dataclass(frozen=True)
class AccessServices:
    """What the gate needs beyond the request: decision sources and the access record store."""

    blocks: BlockSource
    relations: RelationSource
    access_log: AccessLog
    organisations: SubunitSource
    """The SOR hierarchy, for blocks on a treatment place including its sub-units."""


class GateContext(Protocol):
    """The request context as the gate sees it (the gateway's context satisfies this)."""

    actor: Actor
    request_id: str
    access: AccessServices
    access_plan: AccessPlan | None


class ConsentGate(SchemaExtension):
    """Decide access before execution; record it after."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: GateContext = execution.context
        plan = AccessPlan(context.actor)
        if execution.graphql_document is not None:
            reader = OperationReader(
                execution.schema._schema,
                execution.graphql_document,
                execution.operation_name,
                execution.variables,
            )
            plan = await build_plan(context.actor, reader.patients(), context.access, today())
        context.access_plan = plan
        yield
        await write_records(plan, context, execution.query or "", execution.operation_name)


def today() -> date:
    """Today's date in Denmark, the date blocks are valid on."""
    return datetime.now(COPENHAGEN).date()


async def build_plan(actor: Actor, patients: PatientCategories, services: AccessServices, on: date) -> AccessPlan:
    """Decide every patient and category the operation selects."""
    facts = await load_facts(actor, sorted(patients), services, on) if needs_facts(actor) else {}
    plan = AccessPlan(actor)
    for cpr, categories in patients.items():
        plan.patients[cpr] = decide(actor, cpr, categories, facts.get(cpr, DecisionFacts()), on)
    return plan


async def load_facts(actor: Actor, cprs: Sequence[str], services: AccessServices, on: date) -> dict[str, DecisionFacts]:
    """Treatment relations and blocks for ``cprs``: one batched call to each source, concurrently.

    When a valid block covers a treatment place with its sub-units, one more call asks the SOR
    register for the units below the blocked places (for all patients at once).
    """
    if not cprs:
        return {}
    queries = [RelationQuery(cpr, actor.authorization_id or "", actor.organisation_sor) for cpr in cprs]
    relations, blocks = await asyncio.gather(
        services.relations.relations_for(queries),
        services.blocks.blocks_for(cprs),
        return_exceptions=True,
    )
    failed = next((r.source for r in (relations, blocks) if isinstance(r, SourceError)), None)
    for result in (relations, blocks):
        if isinstance(result, BaseException) and not isinstance(result, SourceError):
            raise result
    subunits, failed = await _load_subunits(blocks, services, on, failed)
    facts: dict[str, DecisionFacts] = {}
    for query in queries:
        relation = None if isinstance(relations, BaseException) else relations.get(query)
        found = None if isinstance(blocks, BaseException) else tuple(blocks.get(query.cpr, ()))
        facts[query.cpr] = DecisionFacts(
            has_relation=None if relation is None else relation.has_relation,
            blocks=found,
            failed_source=failed,
            subunits=subunits,
        )
    return facts


async def _load_subunits(
    blocks: Mapping[str, list[BlockRecord]] | BaseException, services: AccessServices, on: date, failed: str | None
) -> tuple[Mapping[str, frozenset[str]] | None, str | None]:
    if isinstance(blocks, BaseException):
        return None, failed
    needed = organisations_needing_subunits((b for found in blocks.values() for b in found), on)
    if not needed:
        return {}, failed
    try:
        return await services.organisations.subunits_of(sorted(needed)), failed
    except SourceError as exc:
        return None, failed or exc.source


async def write_records(plan: AccessPlan, context: GateContext, query: str, operation_name: str | None) -> None:
    """Write one access record per patient in ``plan``; raise :class:`AccessRecordFailed` on failure."""
    if not plan.patients:
        return
    at = datetime.now(UTC)
    operation_hash = hashlib.sha256(query.encode()).hexdigest()
    records = [
        _record(access, plan.actor, context.request_id, at, operation_hash, operation_name)
        for access in plan.patients.values()
    ]
    try:
        await context.access.access_log.write(records)
    except Exception as exc:
        raise AccessRecordFailed("the access record could not be written, so no data is returned") from exc


def _record(
    access: PatientAccess, actor: Actor, request_id: str, at: datetime, operation_hash: str, operation_name: str | None
) -> AccessRecord:
    return AccessRecord(
        id=str(uuid.uuid4()),
        at=at,
        request_id=request_id,
        actor_kind=actor.kind.value,
        actor_id=actor.cpr or actor.authorization_id or actor.subject,
        actor_name=actor.name,
        organisation_sor=actor.organisation_sor,
        client_id=actor.client_id,
        on_behalf_of=None,
        patient_cpr=access.cpr,
        requested=tuple(sorted(access.requested)),
        returned=tuple(sorted(access.returned)),
        denied=tuple(sorted(access.denied)),
        withheld=tuple(sorted(access.withheld)),
        operation_hash=operation_hash,
        operation_name=operation_name,
    )
