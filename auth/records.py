"""The access record of one request: one entry per patient, written before the response leaves.

No record, no data: if the store cannot write, :class:`~auth.errors.AccessRecordFailed` fails the
request closed. No record, no change: a request that may change a patient's data first opens that
patient's record (outcome ``unconfirmed``) before execution, or changes nothing; after execution the
record is finalised with what happened, and if that fails it stays "change attempted, outcome not
confirmed" (ADR 0007). The entry names the caller (and who they act for), how they relate to the patient,
what was requested, returned, denied and withheld, how it ended, and an override only when it lifted
a block. A caller without a token leaves no access record; their attempt, and every refused
override, is a bounded :class:`~auth.security_events.SecurityEvent` for the operator instead
(ADR 0007), written in the same transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from auth.access_log import AccessLog
from auth.actor import Actor
from auth.errors import AccessRecordFailed
from auth.plan import AccessPlan, PatientAccess
from auth.policy import accessor_of
from auth.security_events import SecurityEvent
from sources.audit import AccessActivity, AccessorKind, AccessOutcome, AccessRecord
from sources.categories import WRITE_CATEGORIES, DataCategory
from sources.ids import new_uuid


@dataclass
class RequestRecords:
    """What every record of one request shares, and the records opened before its writes."""

    request_id: str
    at: datetime
    """The time of every record of the request: when access was decided (aware UTC)."""
    operation_hash: str
    """SHA-256 of the GraphQL document."""
    operation_name: str | None
    opened: dict[str, str] = field(default_factory=dict)
    """Patient (current CPR number) → the id of the record opened before the request's writes."""


def start_records(request_id: str, query: str, operation_name: str | None) -> RequestRecords:
    """The shared part of one request's records, timed now."""
    operation_hash = hashlib.sha256(query.encode()).hexdigest()
    return RequestRecords(request_id, datetime.now(UTC), operation_hash, operation_name)


async def open_write_records(plan: AccessPlan, log: AccessLog, request: RequestRecords) -> None:
    """Before execution: durably open a record for every patient whose data the request may change.

    A change to a patient's data never happens without a durable record of it (ADR 0007): each open
    record names the caller and what they asked for with the outcome ``unconfirmed``, and is
    finalised by :func:`write_records` after execution. Raises :class:`AccessRecordFailed` when the
    store fails, before any write goes upstream.
    """
    opening: list[AccessRecord] = []
    for access in plan.patients.values():
        if access.accessor is None or not access.recorded or not access.may_write:
            continue
        record = build_record(access, access.accessor, plan.actor, request, outcome=AccessOutcome.UNCONFIRMED)
        opening.append(record)
    if not opening:
        return
    try:
        await log.open_writes(opening)
    except Exception as exc:
        raise AccessRecordFailed("the record of this change could not be written, so nothing was changed") from exc
    request.opened.update((record.patient_cpr, record.id) for record in opening)


async def write_records(plan: AccessPlan, log: AccessLog, request: RequestRecords) -> None:
    """Write one access record per patient in ``plan`` and the plan's security events.

    A patient with a record opened before execution gets it finalised (same id, same time) with what
    actually happened. Raises :class:`AccessRecordFailed` when the store fails (an open record then
    stays ``unconfirmed``), or when a patient of an authenticated caller has no accessor kind (it
    would be a record no one can read or export).
    """
    if not plan.patients and not plan.security_events:
        return
    records = []
    for access in plan.patients.values():
        if not access.recorded:
            continue  # a refused override: its security event stands for the attempt
        if access.accessor is None:
            if accessor_of(plan.actor) is not None:
                raise AccessRecordFailed("the access record could not be written, so no data is returned")
            continue  # a caller without a token: the security event below stands for the attempt
        records.append(build_record(access, access.accessor, plan.actor, request))
    events = [
        SecurityEvent(
            id=new_uuid(),
            at=request.at,
            request_id=request.request_id,
            kind=kind,
            actor_kind=plan.actor.kind,
            actor=plan.actor.identity,
            client_id=plan.actor.client_id,
            patients=patients,
            operation_hash=request.operation_hash,
        )
        for kind, patients in plan.security_events.items()
    ]
    try:
        await log.write(records, events)
    except Exception as exc:
        raise AccessRecordFailed("the access record could not be written, so no data is returned") from exc


def build_record(
    access: PatientAccess,
    kind: AccessorKind,
    actor: Actor,
    request: RequestRecords,
    *,
    outcome: AccessOutcome | None = None,
) -> AccessRecord:
    """The record of ``actor``'s access to one patient in this request, named as ``kind``.

    ``outcome`` forces the outcome (an open record's ``unconfirmed``, returning nothing); by default
    it is :func:`outcome_of` the access. The record of a patient opened before execution keeps its id.
    """
    assistant = actor.assistant
    actor_id = actor.cpr or actor.authorization_id or actor.subject
    actor_name = actor.name
    acting_for_id = acting_for_name = None
    if assistant is not None:
        actor_id, actor_name = assistant.id, assistant.name
        acting_for_id, acting_for_name = actor.authorization_id, actor.name
    override = access.override
    requested = access.requested | access.client_refused
    return AccessRecord(
        id=request.opened.get(access.cpr) or new_uuid(),
        at=request.at,
        request_id=request.request_id,
        activity=AccessActivity.WRITE if requested & WRITE_CATEGORIES else AccessActivity.READ,
        outcome=outcome or outcome_of(access),
        actor_kind=kind,
        actor_id=actor_id,
        actor_name=actor_name,
        profession=actor.profession,
        organisation_sor=actor.organisation_sor,
        organisation_name=actor.organisation_name,
        client_id=actor.client_id,
        acting_for_id=acting_for_id,
        acting_for_name=acting_for_name,
        patient_cpr=access.cpr,
        requested_cpr=access.requested_cpr,
        requested=_sorted(requested),
        returned=() if outcome is not None else _sorted(access.returned),
        denied=_sorted(access.denied),
        withheld=_sorted(access.withheld),
        override_ground=override.ground if override is not None else None,
        override_reason=override.reason if override is not None else None,
        operation_hash=request.operation_hash,
        operation_name=request.operation_name,
    )


def outcome_of(access: PatientAccess) -> AccessOutcome:
    """Unconfirmed when a write went upstream and its outcome is not known; accessed when data went
    out (or a change was made); refused when the patient or everything asked for was refused."""
    if access.unconfirmed:
        return AccessOutcome.UNCONFIRMED
    if access.returned:
        return AccessOutcome.ACCESSED
    if not access.patient.allowed or access.denied:
        return AccessOutcome.REFUSED
    return AccessOutcome.NOTHING


def _sorted(categories: frozenset[DataCategory] | set[DataCategory]) -> tuple[DataCategory, ...]:
    return tuple(sorted(categories))
