"""Min Log (MinLog2, Sundhedsdatastyrelsen on NSP): the national log of access to a citizen's data.

Exports the gateway's :class:`~sources.audit.AccessRecord` entries as FHIR R4 ``AuditEvent`` resources,
following Trifork's AuditEvent → MinLog2 mapping (``agent[]`` with roles and a requestor flag,
``who.identifier`` as CPR, SOR or autorisations-ID, ``entity.what`` the patient's CPR). Many records go
in one ``batch`` Bundle; each event is a conditional create keyed by the record id, so a re-sent record
is stored once. Every entry of the ``batch-response`` must be 2xx, or the whole send fails and the
records stay pending. Wire format and mapping: ``docs/sources/minlog.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC
from typing import Any, Literal

from pydantic import Field, ValidationError

from sources.audit import AccessorKind, AccessRecord
from sources.base import SourceClient
from sources.categories import DataCategory
from sources.errors import SourceRejected, SourceUnavailable
from sources.payloads import CPR_SYSTEM, SOR_SYSTEM, FhirModel

AUTHORIZATION_SYSTEM = "https://autregweb.sst.dk"
"""Autorisations-ID (dk-core)."""
ACCESS_RECORD_SYSTEM = "http://patientoverblik.dk/fhir/sid/access-record"
"""``meta.tag`` system whose code is the access record id: the idempotency key of an event."""
USER_ID_SYSTEM = "http://patientoverblik.dk/fhir/sid/user-id"
"""An assistant's (medhjælp's) user ID at the gateway's identity provider."""
CLIENT_SYSTEM = "http://patientoverblik.dk/fhir/sid/client-id"
"""A client application's registration (a vendor system, the citizen app)."""
GATEWAY_SYSTEM = "http://patientoverblik.dk/fhir/sid/system"
"""The gateway's own name, when it is not configured with a SOR code."""
ACTOR_KIND_SYSTEM = "http://patientoverblik.dk/fhir/CodeSystem/actor-kind"
"""The record's :class:`~sources.audit.AccessorKind`, verbatim."""
CATEGORY_SYSTEM = "http://patientoverblik.dk/fhir/CodeSystem/data-category"
"""The :class:`~sources.categories.DataCategory` of an entity."""
OVERRIDE_URL = "http://patientoverblik.dk/fhir/StructureDefinition/consent-override"
"""Extension with the override (værdispring) ground and reason."""
REQUEST_ID_URL = "http://patientoverblik.dk/fhir/StructureDefinition/request-id"
"""Extension with the gateway request id (MinLog2's CorrelationId)."""

DICOM = "http://dicom.nema.org/resources/ontology/DCM"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"

_FHIR_JSON = {"Content-Type": "application/fhir+json"}
_SOR = re.compile(r"[0-9]{6,18}")

# kind -> (identifier system, who.type, role system, role code, Danish label)
_ACTORS: dict[AccessorKind, tuple[str, str, str, str, str]] = {
    AccessorKind.CITIZEN: (CPR_SYSTEM, "Patient", ROLE_CLASS, "PAT", "borger"),
    AccessorKind.REPRESENTATIVE: (CPR_SYSTEM, "RelatedPerson", ROLE_CODE, "POWATT", "fuldmagtshaver"),
    AccessorKind.PARENT: (CPR_SYSTEM, "RelatedPerson", ROLE_CODE, "PRN", "forælder med forældremyndighed"),
    AccessorKind.GUARDIAN: (CPR_SYSTEM, "RelatedPerson", ROLE_CODE, "GUARD", "værge"),
    AccessorKind.PROFESSIONAL: (AUTHORIZATION_SYSTEM, "Practitioner", ROLE_CLASS, "PROV", "sundhedsperson"),
    AccessorKind.ASSISTANT: (USER_ID_SYSTEM, "Practitioner", ROLE_CLASS, "AGNT", "medhjælp"),
    AccessorKind.SYSTEM: (AUTHORIZATION_SYSTEM, "Practitioner", ROLE_CLASS, "PROV", "fagsystem"),
}
# kind -> v3-ActReason purpose of use when no override was made (ETREAT would read as an emergency)
_PATIENT_REQUEST = ("PATRQT", "patient requested")
_REPRESENTATIVE_REQUEST = ("PWATRNY", "power of attorney")
_TREATMENT = ("TREAT", "treatment")
_PURPOSE: dict[AccessorKind, tuple[str, str]] = {
    AccessorKind.CITIZEN: _PATIENT_REQUEST,
    AccessorKind.REPRESENTATIVE: _REPRESENTATIVE_REQUEST,
    AccessorKind.PARENT: _REPRESENTATIVE_REQUEST,
    AccessorKind.GUARDIAN: _REPRESENTATIVE_REQUEST,
    AccessorKind.PROFESSIONAL: _TREATMENT,
    AccessorKind.ASSISTANT: _TREATMENT,
    AccessorKind.SYSTEM: _TREATMENT,
}
_CATEGORY_NAMES: dict[str, str] = {
    DataCategory.PERSON: "Personoplysninger",
    DataCategory.GP: "Egen læge og sygesikring",
    DataCategory.MASTER_CARD: "Fælles Stamkort",
    DataCategory.REGISTERS: "Registreringer (testamente, donor, genoplivning)",
    DataCategory.APPOINTMENTS: "Aftaler",
    DataCategory.PLANS: "Planer og indsatser",
    DataCategory.GOALS: "Mål",
    DataCategory.DIAGNOSES: "Diagnoser",
    DataCategory.REGISTER_DETAILS: "Indhold af registreringer",
    DataCategory.ACCESS_LOG: "Adgangslog (Min Log)",
    DataCategory.BLOCKS: "Spærringer (Min Spærring)",
    DataCategory.MASTER_CARD_EDIT: "Ændring af Fælles Stamkort",
    DataCategory.BLOCKS_EDIT: "Oprettelse og ophævelse af spærringer",
}


class _Response(FhirModel):
    status: str = Field(pattern=r"^[1-5][0-9]{2}(\s|$)")


class _ResponseEntry(FhirModel):
    response: _Response


class _BatchResponse(FhirModel):
    resource_type: Literal["Bundle"]
    type: Literal["batch-response"]
    entry: list[_ResponseEntry] = Field(default_factory=list)


class MinLogSink:
    """Sends access records to Min Log as FHIR ``AuditEvent``s, many in one batch."""

    def __init__(self, client: SourceClient, *, observer: str = "patientoverblik") -> None:
        """``observer`` is the gateway's identity in ``source.observer``: its SOR code in production."""
        self._client = client
        self._observer = observer

    async def send(self, records: Sequence[AccessRecord]) -> None:
        """Store every record in Min Log in one request, or raise a :class:`~sources.errors.SourceError`.

        Returns only when every event was stored (``201``) or was already there (``200``).
        """
        if not records:
            return
        body = batch_bundle(records, observer=self._observer)
        payload, _ = await self._client.send_json("POST", "/fhir", body, headers=_FHIR_JSON)
        try:
            answer = _BatchResponse.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("batch-response failed validation") from exc
        if len(answer.entry) != len(records):
            raise self._client.invalid("batch-response does not answer every event")
        codes = [int(entry.response.status[:3]) for entry in answer.entry]
        failed = [code for code in codes if not 200 <= code < 300]
        if not failed:
            return
        detail = f"{len(failed)} of {len(codes)} audit events not stored (status {max(failed)})"
        if any(code >= 500 for code in failed):
            raise SourceUnavailable(self._client.name, detail)
        raise SourceRejected(self._client.name, detail)


def batch_bundle(records: Sequence[AccessRecord], *, observer: str = "patientoverblik") -> dict[str, Any]:
    """A FHIR ``batch`` Bundle with one conditional create of an ``AuditEvent`` per record."""
    return {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "resource": audit_event(record, observer=observer),
                "request": {
                    "method": "POST",
                    "url": "AuditEvent",
                    "ifNoneExist": f"_tag={ACCESS_RECORD_SYSTEM}|{record.id}",
                },
            }
            for record in records
        ],
    }


def audit_event(record: AccessRecord, *, observer: str = "patientoverblik") -> dict[str, Any]:
    """``record`` as a FHIR R4 ``AuditEvent`` for Min Log (mapping: ``docs/sources/minlog.md``).

    Raises ``ValueError`` for a record that breaks its contract (unknown activity or actor kind, a
    naive time): such a record stays pending rather than reaching the log half-described.
    """
    if record.activity not in ("read", "write"):
        raise ValueError("access record activity must be read or write")
    if record.at.tzinfo is None:
        raise ValueError("access record time must be timezone-aware")
    kind = AccessorKind(record.actor_kind)
    write = record.activity == "write"
    extensions: list[dict[str, Any]] = [{"url": REQUEST_ID_URL, "valueString": record.request_id}]
    if record.override_ground:
        override = [{"url": "ground", "valueCode": record.override_ground}]
        if record.override_reason:
            override.append({"url": "reason", "valueString": record.override_reason})
        extensions.append({"url": OVERRIDE_URL, "extension": override})
    return {
        "resourceType": "AuditEvent",
        "meta": {"tag": [{"system": ACCESS_RECORD_SYSTEM, "code": record.id}]},
        "extension": extensions,
        "type": {"system": DICOM, "code": "110110", "display": "Patient Record"},
        "subtype": [
            {"system": RESTFUL_INTERACTION, "code": "update", "display": "update"}
            if write
            else {"system": RESTFUL_INTERACTION, "code": "read", "display": "read"}
        ],
        "action": "U" if write else "R",
        "recorded": record.at.astimezone(UTC).isoformat(),
        "outcome": _outcome(record),
        "outcomeDesc": _outcome_description(record),
        "purposeOfEvent": [_purpose(record, kind)],
        "agent": _agents(record, kind),
        "source": _source(observer),
        "entity": _entities(record),
    }


def _outcome(record: AccessRecord) -> str:
    """``0`` (success) when anything was returned, ``4`` (minor failure) when nothing asked for was."""
    if record.returned or not (record.requested or record.denied):
        return "0"
    return "4"


def _outcome_description(record: AccessRecord) -> str:
    if record.returned:
        parts = ["Ændring gennemført" if record.activity == "write" else "Oplysninger vist"]
        if record.withheld:
            parts.append("dele tilbageholdt af spærring")
        if record.denied:
            parts.append("andre oplysninger nægtet")
        return "; ".join(parts)
    if record.denied:
        return "Adgang nægtet"
    if record.requested:
        return "Ingen oplysninger vist"
    return "Opslag uden oplysninger"


def _purpose(record: AccessRecord, kind: AccessorKind) -> dict[str, Any]:
    if record.override_ground:
        text = "Værdispring (samtykke tilsidesat)"
        return {"coding": [{"system": ACT_REASON, "code": "BTG", "display": "break the glass"}], "text": text}
    code, display = _PURPOSE[kind]
    return {"coding": [{"system": ACT_REASON, "code": code, "display": display}]}


def _agents(record: AccessRecord, kind: AccessorKind) -> list[dict[str, Any]]:
    system, who_type, role_system, role_code, label = _ACTORS[kind]
    requestor: dict[str, Any] = {
        "role": [
            {"coding": [{"system": role_system, "code": role_code}]},
            {"coding": [{"system": ACTOR_KIND_SYSTEM, "code": kind.value, "display": label}]},
        ],
        "who": _who(system, record.actor_id, who_type, record.actor_name),
        "name": record.profession or label,
        "requestor": True,
        "purposeOfUse": [_purpose(record, kind)],
    }
    agents = [requestor]
    if record.acting_for_id:
        agents.append(
            {
                "type": {"coding": [{"system": PARTICIPATION_TYPE, "code": "RESP", "display": "responsible party"}]},
                "role": [{"coding": [{"system": ROLE_CLASS, "code": "PROV"}]}],
                "who": _who(AUTHORIZATION_SYSTEM, record.acting_for_id, "Practitioner", record.acting_for_name),
                "name": "ansvarlig sundhedsperson",
                "requestor": False,
            }
        )
    if record.organisation_sor:
        agents.append(
            {
                "role": [{"coding": [{"system": ROLE_CLASS, "code": "PROV"}]}],
                "who": _who(SOR_SYSTEM, record.organisation_sor, "Organization", record.organisation_name),
                "name": "organisation",
                "requestor": False,
            }
        )
    if record.client_id:
        agents.append(
            {
                "type": {"coding": [{"system": DICOM, "code": "110150", "display": "Application"}]},
                "who": _who(CLIENT_SYSTEM, record.client_id, "Device", None),
                "name": "klientsystem",
                "requestor": False,
            }
        )
    return agents


def _who(system: str, value: str, who_type: str, display: str | None) -> dict[str, Any]:
    who: dict[str, Any] = {"identifier": {"system": system, "value": value}, "type": who_type}
    if display:
        who["display"] = display
    return who


def _source(observer: str) -> dict[str, Any]:
    system = SOR_SYSTEM if _SOR.fullmatch(observer) else GATEWAY_SYSTEM
    return {
        "observer": {"identifier": {"system": system, "value": observer}, "display": "Et Samlet Patientoverblik"},
        "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
    }


def _entities(record: AccessRecord) -> list[dict[str, Any]]:
    patient: dict[str, Any] = {
        "what": {"identifier": {"system": CPR_SYSTEM, "value": record.patient_cpr}, "type": "Patient"},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
        "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
        "name": "Patient",
    }
    if record.requested_cpr and record.requested_cpr != record.patient_cpr:
        patient["detail"] = [{"type": "requested-cpr", "valueString": record.requested_cpr}]
    entities = [patient]
    categories = dict.fromkeys((*record.requested, *record.returned, *record.denied, *record.withheld))
    for category in categories:
        outcomes = [
            name
            for name, among in (
                ("returned", record.returned),
                ("denied", record.denied),
                ("withheld", record.withheld),
            )
            if category in among
        ] or ["not-returned"]
        entities.append(
            {
                "what": {"identifier": {"system": CPR_SYSTEM, "value": record.patient_cpr}},
                "type": {"system": CATEGORY_SYSTEM, "code": category},
                "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"},
                "name": _CATEGORY_NAMES.get(category, category),
                "description": _entity_description(outcomes, record.activity == "write"),
                "detail": [{"type": "outcome", "valueString": outcome} for outcome in outcomes],
            }
        )
    return entities


def _entity_description(outcomes: list[str], write: bool) -> str:
    if "returned" in outcomes:
        shown = "Ændret" if write else "Vist"
        return f"{shown}; dele tilbageholdt af spærring" if "withheld" in outcomes else shown
    if "denied" in outcomes:
        return "Adgang nægtet"
    if "withheld" in outcomes:
        return "Tilbageholdt af spærring"
    return "Ikke vist"
