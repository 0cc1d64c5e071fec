"""The consent gate: access decided once per request, from the parsed operation, before execution.

``ConsentGate`` is a strawberry schema extension. In ``on_execute``, before any resolver runs, it
selects the operation and coerces its variables as execution will, reads which patients and data
categories that operation selects (:mod:`auth.operation`), loads what the decision needs
(:mod:`auth.facts`: treatment relations, blocks, the patients' CPR identity and the caller's powers
of attorney, one batched call each), decides with :mod:`auth.policy` and puts the
:class:`~auth.plan.AccessPlan` and the operation it was decided for on the request context. After
execution, and before the response leaves, it writes one access record per patient
(:mod:`auth.records`) and the request's security events (anonymous or refused attempts, ADR 0007);
if that write fails, the request fails closed with no data. A patient whose data the operation may
change gets their record opened *before* execution; if that fails, nothing is executed. The decision
is one span and its verdicts and the write's duration are metrics (:mod:`auth.telemetry`). A
subscription is decided the same way at its start, which records only a refusal; the gate leaves it a
:class:`~auth.stream.StreamDecisions` to decide again before every poll and record every event (ADR 0023).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from graphql import OperationType
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from auth.access_log import AccessLog
from auth.actor import Actor, ActorKind
from auth.facts import FactSources, load_facts
from auth.fields import UNREGISTERED, ClientRegistration
from auth.operation import BadOverride, OperationRead, OperationReader, PreparedOperation, prepare_operation
from auth.plan import AccessPlan, Denial, Override, PatientAccess, deny
from auth.policy import DecisionFacts, PolicyOptions, accessor_of, decide, may_override
from auth.records import open_write_records, start_records, write_records
from auth.representations import RepresentationSources, load_representations
from auth.security_events import SecurityEventKind
from auth.stream import StreamDecisions, record_start
from auth.telemetry import decision_span, describe_plan, observe_plan, timed_access_log_write
from sources.categories import DataCategory
from sources.deadline import Wave, in_wave
from sources.models import PersonRecord
from sources.patient_keys import PatientKeys
from sources.payloads import COPENHAGEN


@dataclass(frozen=True)
class AccessServices:
    """What the gate needs beyond the request: decision sources, settings and the access record store."""

    sources: FactSources
    access_log: AccessLog
    options: PolicyOptions = field(default_factory=PolicyOptions)
    clients: Mapping[str, ClientRegistration] = field(default_factory=dict)
    """Vendor systems' registrations by client ID (field allow-lists)."""
    representations: RepresentationSources | None = None
    """Where ``me.actsFor`` reads whom a citizen represents (CPR and Digital Fuldmagt)."""
    patient_keys: PatientKeys = field(default_factory=PatientKeys.generate)
    """The deployment's patient keys: the gate opens those ``_entities`` is given (ADR 0022)."""


class GateContext(Protocol):
    """The request context as the gate sees it (the gateway's context satisfies this)."""

    actor: Actor
    request_id: str
    access: AccessServices
    access_plan: AccessPlan | None
    prepared_operation: PreparedOperation | None
    """The operation and coerced variables access was decided for; execution runs exactly these."""
    stream_decisions: StreamDecisions | None
    """A subscription's decisions after its start (``None`` for a query or mutation)."""

    def remember_persons(self, records: Mapping[str, PersonRecord]) -> None:
        """Keep the CPR records the decision loaded, so resolvers do not fetch them again."""


class ConsentGate(SchemaExtension):
    """Decide access before execution; record it after."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: GateContext = execution.context
        plan = AccessPlan(context.actor)
        context.prepared_operation = context.stream_decisions = None
        subscription = False
        if execution.graphql_document is not None:
            schema, document = execution.schema._schema, execution.graphql_document
            prepared = prepare_operation(schema, document, execution.operation_name, execution.variables)
            if isinstance(prepared, PreparedOperation):  # otherwise execution refuses the request, as we do
                registration = _registration(context.actor, context.access.clients)
                allowed = registration.allows if registration else None
                reader = OperationReader(schema, prepared, allowed, context.access.patient_keys)
                read, on = reader.read(), today()
                with decision_span(context.actor) as span:
                    plan = await build_plan(context, read, on, registration)
                    if read.representations and context.access.representations is not None:
                        plan.representations = await load_representations(
                            context.actor, context.access.representations, on
                        )
                    describe_plan(span, plan)
                context.prepared_operation = prepared
                subscription = prepared.operation.operation is OperationType.SUBSCRIPTION
                if subscription:
                    context.stream_decisions = _stream_decisions(context, read, registration, execution)
        context.access_plan = plan
        observe_plan(plan)
        request = start_records(context.request_id, execution.query or "", execution.operation_name)
        # Raises before execution when the record of a change cannot be written: nothing is changed.
        with timed_access_log_write():
            await open_write_records(plan, context.access.access_log, request)
        yield
        with timed_access_log_write():
            if subscription:
                await record_start(plan, context.access.access_log, request)
            else:
                await write_records(plan, context.access.access_log, request)


def _stream_decisions(
    context: GateContext, read: OperationRead, registration: ClientRegistration | None, execution: ExecutionContext
) -> StreamDecisions:
    """What a subscription decides again before each poll: this operation, for this caller, on this context."""

    async def plan_again(again: OperationRead, on: date, client: ClientRegistration | None) -> AccessPlan:
        return await build_plan(context, again, on, client)

    return StreamDecisions(
        actor=context.actor,
        read=read,
        registration=registration,
        plan_again=plan_again,
        access_log=context.access.access_log,
        request_id=context.request_id,
        query=execution.query or "",
        operation_name=execution.operation_name,
        today=today,
    )


def today() -> date:
    """Today's date in Denmark, the date blocks, powers of attorney and ages are valid on."""
    return datetime.now(COPENHAGEN).date()


def _registration(actor: Actor, clients: Mapping[str, ClientRegistration]) -> ClientRegistration | None:
    """The caller's client registration; a system without one gets :data:`UNREGISTERED` (no fields)."""
    registration = clients.get(actor.client_id) if actor.client_id is not None else None
    if registration is None and actor.kind is ActorKind.SYSTEM:
        return UNREGISTERED
    return registration


async def build_plan(
    context: GateContext, read: OperationRead, on: date, registration: ClientRegistration | None = None
) -> AccessPlan:
    """Decide every patient and category the operation selects.

    A caller without a token is refused every patient (``UNAUTHENTICATED``) before anything is
    loaded, and leaves a security event instead of access records. An override from a caller who
    may not send one, or a malformed one, refuses that patient without asking anything and leaves
    only a security event: no line in that patient's log, nothing for Min Log (ADR 0007). A vendor
    system asking for fields outside its registration leaves a security event too, and so does a
    Federation representation whose key did not open (ADR 0022).
    """
    actor = context.actor
    services = context.access
    plan = AccessPlan(actor, denied_fields=frozenset(read.denied_fields))
    if read.denied_fields and registration is not None:
        kind = (
            SecurityEventKind.CLIENT_NOT_REGISTERED
            if registration is UNREGISTERED
            else SecurityEventKind.FIELD_NOT_ALLOWED
        )
        plan.security_events[kind] = len(read.patients.keys() | read.refused_patients)
    if read.invalid_keys:
        plan.security_events[SecurityEventKind.PATIENT_KEY_INVALID] = read.invalid_keys
    if not read.patients:
        return plan
    if actor.kind is ActorKind.ANONYMOUS:
        for cpr, categories in read.patients.items():
            plan.patients[cpr] = decide(actor, cpr, categories, DecisionFacts(), on)
        plan.security_events[SecurityEventKind.UNAUTHENTICATED] = len(read.patients)
        return plan
    options = services.options
    if registration is not None and registration.authority:
        options = PolicyOptions(options.stamkort_blockable, authority=True)
    _note_refused_overrides(plan, read)
    lifted = {cpr for cpr, o in read.overrides.items() if isinstance(o, Override) and may_override(actor)}
    # A malformed override, or one from a caller who may not send one, is refused without asking anything.
    refused = {cpr for cpr, o in read.overrides.items() if isinstance(o, BadOverride) or not may_override(actor)}
    deciding = sorted(set(read.patients) - refused)
    with in_wave(Wave.DECISION):  # the request's first wave of upstream calls (ADR 0024)
        loaded = await load_facts(actor, deciding, services.sources, on, lifted)
    context.remember_persons(loaded.persons)
    plan.aliases = dict(loaded.aliases)
    merged: dict[str, set[DataCategory]] = {}
    client_refused: dict[str, set[DataCategory]] = {}
    overrides: dict[str, Override | BadOverride] = {}
    for asked, categories in read.patients.items():
        current = loaded.aliases.get(asked, asked)
        merged.setdefault(current, set()).update(categories)
        client_refused.setdefault(current, set()).update(read.refused.get(asked, ()))
        if asked in read.overrides:
            overrides[current] = read.overrides[asked]
    for cpr, categories in merged.items():
        facts = loaded.facts.get(cpr, DecisionFacts())
        sent = overrides.get(cpr)
        if isinstance(sent, BadOverride):
            refusal = deny(Denial.BAD_OVERRIDE, sent.message, sent.argument)
            access = PatientAccess(cpr, refusal, {}, frozenset(categories), accessor=accessor_of(actor))
        else:
            access = decide(actor, cpr, categories, facts, on, override=sent, options=options)
        # A refused override is a security event, not a line in the patient's log (ADR 0007).
        access.recorded = sent is None or (isinstance(sent, Override) and may_override(actor))
        access.client_refused = frozenset(client_refused[cpr] - categories)
        access.requested_cpr = next((a for a, c in loaded.aliases.items() if c == cpr), None)
        plan.patients[cpr] = access
    return plan


def _note_refused_overrides(plan: AccessPlan, read: OperationRead) -> None:
    """Count the patients with a malformed override, or an override the caller may not send."""
    malformed = sum(isinstance(o, BadOverride) for o in read.overrides.values())
    not_allowed = 0 if may_override(plan.actor) else len(read.overrides) - malformed
    if malformed:
        plan.security_events[SecurityEventKind.OVERRIDE_MALFORMED] = malformed
    if not_allowed:
        plan.security_events[SecurityEventKind.OVERRIDE_NOT_ALLOWED] = not_allowed
