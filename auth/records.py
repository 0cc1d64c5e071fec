"""The access record of one request: one entry per patient, written before the response leaves.

No record, no data: if the store cannot write, :class:`~auth.errors.AccessRecordFailed` fails the
request closed. The entry names the caller (and who they act for), how they relate to the patient,
what was requested, returned, denied and withheld, and any override with its ground and reason.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from auth.access_log import AccessLog
from auth.actor import Actor, ActorKind
from auth.errors import AccessRecordFailed
from auth.plan import AccessPlan, PatientAccess
from sources.audit import AccessorKind, AccessRecord
from sources.categories import WRITE_CATEGORIES


async def write_records(
    plan: AccessPlan, log: AccessLog, request_id: str, query: str, operation_name: str | None
) -> None:
    """Write one access record per patient in ``plan``; raise :class:`AccessRecordFailed` on failure."""
    if not plan.patients:
        return
    at = datetime.now(UTC)
    operation_hash = hashlib.sha256(query.encode()).hexdigest()
    records = [
        build_record(access, plan.actor, request_id, at, operation_hash, operation_name)
        for access in plan.patients.values()
    ]
    try:
        await log.write(records)
    except Exception as exc:
        raise AccessRecordFailed("the access record could not be written, so no data is returned") from exc


def build_record(
    access: PatientAccess, actor: Actor, request_id: str, at: datetime, operation_hash: str, operation_name: str | None
) -> AccessRecord:
    """The record of ``actor``'s access to one patient in this request."""
    kind = access.accessor or (AccessorKind.CITIZEN if actor.kind is ActorKind.CITIZEN else None)
    assistant = actor.assistant
    actor_id = actor.cpr or actor.authorization_id or actor.subject or "anonymous"
    actor_name = actor.name
    acting_for_id = acting_for_name = None
    if assistant is not None:
        actor_id, actor_name = assistant.id, assistant.name
        acting_for_id, acting_for_name = actor.authorization_id, actor.name
    override = access.override
    return AccessRecord(
        id=str(uuid.uuid4()),
        at=at,
        request_id=request_id,
        activity="write" if access.requested & WRITE_CATEGORIES else "read",
        actor_kind=(kind.value if kind is not None else actor.kind.value),
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
        requested=tuple(sorted(access.requested)),
        returned=tuple(sorted(access.returned)),
        denied=tuple(sorted(access.denied)),
        withheld=tuple(sorted(access.withheld)),
        override_ground=override.ground.value if override is not None else None,
        override_reason=override.reason if override is not None else None,
        operation_hash=operation_hash,
        operation_name=operation_name,
    )
