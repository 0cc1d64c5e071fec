"""The access record of one request: one entry per patient, written before the response leaves.

No record, no data: if the store cannot write, :class:`~auth.errors.AccessRecordFailed` fails the
request closed. The entry names the caller (and who they act for), how they relate to the patient,
what was requested, returned, denied and withheld, how it ended, and an override only when it lifted
a block. A caller without a token leaves no access record; their attempt, and every refused
override, is a bounded :class:`~auth.security_events.SecurityEvent` for the operator instead
(ADR 0007), written in the same transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from auth.access_log import AccessLog
from auth.actor import Actor
from auth.errors import AccessRecordFailed
from auth.plan import AccessPlan, PatientAccess
from auth.policy import accessor_of
from auth.security_events import SecurityEvent
from sources.audit import AccessActivity, AccessorKind, AccessOutcome, AccessRecord
from sources.categories import WRITE_CATEGORIES, DataCategory


async def write_records(
    plan: AccessPlan, log: AccessLog, request_id: str, query: str, operation_name: str | None
) -> None:
    """Write one access record per patient in ``plan`` and the plan's security events.

    Raises :class:`AccessRecordFailed` when the store fails, or when a patient of an authenticated
    caller has no accessor kind (it would be a record no one can read or export).
    """
    if not plan.patients and not plan.security_events:
        return
    at = datetime.now(UTC)
    operation_hash = hashlib.sha256(query.encode()).hexdigest()
    records = []
    for access in plan.patients.values():
        if access.accessor is None:
            if accessor_of(plan.actor) is not None:
                raise AccessRecordFailed("the access record could not be written, so no data is returned")
            continue  # a caller without a token: the security event below stands for the attempt
        records.append(
            build_record(access, access.accessor, plan.actor, request_id, at, operation_hash, operation_name)
        )
    events = [
        SecurityEvent(
            id=str(uuid.uuid4()),
            at=at,
            request_id=request_id,
            kind=kind,
            actor_kind=plan.actor.kind,
            actor=plan.actor.identity,
            client_id=plan.actor.client_id,
            patients=patients,
            operation_hash=operation_hash,
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
    request_id: str,
    at: datetime,
    operation_hash: str,
    operation_name: str | None,
) -> AccessRecord:
    """The record of ``actor``'s access to one patient in this request, named as ``kind``."""
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
        id=str(uuid.uuid4()),
        at=at,
        request_id=request_id,
        activity=AccessActivity.WRITE if requested & WRITE_CATEGORIES else AccessActivity.READ,
        outcome=outcome_of(access),
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
        returned=_sorted(access.returned),
        denied=_sorted(access.denied),
        withheld=_sorted(access.withheld),
        override_ground=override.ground if override is not None else None,
        override_reason=override.reason if override is not None else None,
        operation_hash=operation_hash,
        operation_name=operation_name,
    )


def outcome_of(access: PatientAccess) -> AccessOutcome:
    """Accessed when data went out; refused when the patient or everything asked for was refused."""
    if access.returned:
        return AccessOutcome.ACCESSED
    if not access.patient.allowed or access.denied:
        return AccessOutcome.REFUSED
    return AccessOutcome.NOTHING


def _sorted(categories: frozenset[DataCategory] | set[DataCategory]) -> tuple[DataCategory, ...]:
    return tuple(sorted(categories))
