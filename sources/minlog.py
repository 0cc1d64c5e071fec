"""Min Log (MinLog2, Sundhedsdatastyrelsen on NSP): the national log of access to a citizen's data.

Exports the gateway's :class:`~sources.audit.AccessRecord` entries as FHIR R4 ``AuditEvent`` resources,
following Trifork's AuditEvent → MinLog2 mapping (``agent[]`` with roles and a requestor flag,
``who.identifier`` as CPR, SOR or autorisations-ID, ``entity.what`` the patient's CPR). Many records go
in one ``batch`` Bundle; each event is a conditional create keyed by the record id, so a re-sent record
is stored once. A record the mapping cannot express, or whose entry Min Log refuses (4xx), comes back
as a :class:`~sources.audit.SinkRefusal` for the exporter to set aside; a transient failure raises and
the records stay pending. Wire format and mapping: ``docs/sources/minlog.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Literal, assert_never

from pydantic import Field, ValidationError

from sources.audit import AccessActivity, AccessorKind, AccessOutcome, AccessRecord, SinkRefusal
from sources.base import EncodedJson, SourceClient
from sources.categories import DataCategory
from sources.errors import SourceRejected, SourceUnavailable, SourceVersionConflict
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
_ISSUE_CODE = re.compile(r"[a-z][a-z-]{0,39}")
_TRANSIENT_ENTRY = frozenset({408, 429})
"""Entry statuses that say "later", not "never" (besides every 5xx)."""


@dataclass(frozen=True, slots=True)
class _Actor:
    """How one accessor kind appears in an ``AuditEvent``."""

    system: str
    """The identifier system of ``who`` (CPR, autorisations-ID, user ID)."""
    who_type: str
    role_system: str
    role_code: str
    label: str
    """A Danish label (the agent's ``name`` when no profession is known)."""


def _actor(kind: AccessorKind) -> _Actor:
    match kind:
        case AccessorKind.CITIZEN:
            return _Actor(CPR_SYSTEM, "Patient", ROLE_CLASS, "PAT", "borger")
        case AccessorKind.REPRESENTATIVE:
            return _Actor(CPR_SYSTEM, "RelatedPerson", ROLE_CODE, "POWATT", "fuldmagtshaver")
        case AccessorKind.PARENT:
            return _Actor(CPR_SYSTEM, "RelatedPerson", ROLE_CODE, "PRN", "forælder med forældremyndighed")
        case AccessorKind.GUARDIAN:
            return _Actor(CPR_SYSTEM, "RelatedPerson", ROLE_CODE, "GUARD", "værge")
        case AccessorKind.PROFESSIONAL:
            return _Actor(AUTHORIZATION_SYSTEM, "Practitioner", ROLE_CLASS, "PROV", "sundhedsperson")
        case AccessorKind.ASSISTANT:
            return _Actor(USER_ID_SYSTEM, "Practitioner", ROLE_CLASS, "AGNT", "medhjælp")
        case AccessorKind.SYSTEM:
            return _Actor(AUTHORIZATION_SYSTEM, "Practitioner", ROLE_CLASS, "PROV", "fagsystem")
        case _:
            assert_never(kind)


def _purpose_code(kind: AccessorKind) -> tuple[str, str]:
    """The v3-ActReason purpose of use when no override lifted a block (ETREAT would read as an emergency)."""
    match kind:
        case AccessorKind.CITIZEN:
            return ("PATRQT", "patient requested")
        case AccessorKind.REPRESENTATIVE | AccessorKind.PARENT | AccessorKind.GUARDIAN:
            return ("PWATRNY", "power of attorney")
        case AccessorKind.PROFESSIONAL | AccessorKind.ASSISTANT | AccessorKind.SYSTEM:
            return ("TREAT", "treatment")
        case _:
            assert_never(kind)


def category_name(category: DataCategory) -> str:
    """The Danish name of ``category`` in an event's entity."""
    match category:
        case DataCategory.PERSON:
            return "Personoplysninger"
        case DataCategory.GP:
            return "Egen læge og sygesikring"
        case DataCategory.MASTER_CARD:
            return "Fælles Stamkort"
        case DataCategory.REGISTERS:
            return "Registreringer (testamente, donor, genoplivning)"
        case DataCategory.APPOINTMENTS:
            return "Aftaler"
        case DataCategory.PLANS:
            return "Planer og indsatser"
        case DataCategory.GOALS:
            return "Mål"
        case DataCategory.DIAGNOSES:
            return "Diagnoser"
        case DataCategory.REGISTER_DETAILS:
            return "Indhold af registreringer"
        case DataCategory.ACCESS_LOG:
            return "Adgangslog (Min Log)"
        case DataCategory.BLOCKS:
            return "Spærringer (Min Spærring)"
        case DataCategory.MASTER_CARD_EDIT:
            return "Ændring af Fælles Stamkort"
        case DataCategory.BLOCKS_EDIT:
            return "Oprettelse og ophævelse af spærringer"
        case _:
            assert_never(category)


class _Issue(FhirModel):
    code: str | None = None


class _Outcome(FhirModel):
    issue: list[_Issue] = Field(default_factory=list)


class _Response(FhirModel):
    status: str = Field(pattern=r"^[1-5][0-9]{2}(\s|$)")
    outcome: _Outcome | None = None


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

    async def send(self, records: Sequence[AccessRecord]) -> list[SinkRefusal]:
        """Store every record Min Log takes; return the ones it will never take, each with a reason.

        A record is refused when it cannot be mapped to an ``AuditEvent``, when its entry of the
        ``batch-response`` is a 4xx (other than 408 and 429), or when Min Log refuses (400/422) a
        request holding that record alone: a batch refused as a whole is split in halves until the
        refused records are found. Every other record was stored (``201``) or was already there
        (``200``) when this returns. Anything transient (the log unreachable, a 5xx, 408 or 429
        entry, a batch-response that does not answer every event) raises a
        :class:`~sources.errors.SourceError`, and then nothing is known to be refused.
        """
        refusals: list[SinkRefusal] = []
        events: list[tuple[AccessRecord, bytes]] = []
        for record in records:
            try:
                entry = _entry(record, audit_event(record, observer=self._observer))
            except Exception as exc:  # the mapping refuses this record; the others still go
                refusals.append(SinkRefusal(record.id, f"not mappable to an AuditEvent ({_why(exc)})"))
            else:
                events.append((record, entry))
        return refusals + await self._send(events)

    async def _send(self, events: list[tuple[AccessRecord, bytes]]) -> list[SinkRefusal]:
        if not events:
            return []
        body = EncodedJson(_BUNDLE_START + b",".join(entry for _, entry in events) + _BUNDLE_END)
        try:
            payload, _ = await self._client.send_json("POST", "/fhir", body, headers=_FHIR_JSON)
        except SourceRejected as exc:
            if isinstance(exc, SourceVersionConflict):
                raise
            if len(events) == 1:
                return [SinkRefusal(events[0][0].id, f"Min Log refused the request holding it alone ({exc.detail})")]
            half = len(events) // 2
            return await self._send(events[:half]) + await self._send(events[half:])
        try:
            answer = _BatchResponse.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("batch-response failed validation") from exc
        if len(answer.entry) != len(events):
            raise self._client.invalid("batch-response does not answer every event")
        codes = [int(entry.response.status[:3]) for entry in answer.entry]
        transient = [code for code in codes if code >= 500 or code in _TRANSIENT_ENTRY]
        if transient:
            detail = f"{len(transient)} of {len(codes)} audit events not stored (status {max(transient)})"
            raise SourceUnavailable(self._client.name, detail)
        return [
            SinkRefusal(record.id, f"Min Log refused the entry (status {code}{_issue_of(entry)})")
            for (record, _), code, entry in zip(events, codes, answer.entry, strict=True)
            if code >= 400
        ]


def _why(exc: Exception) -> str:
    """A mapping failure in the gateway's own words: the message of its own checks, else the error class."""
    return str(exc) if isinstance(exc, UnmappableRecord) else type(exc).__name__


def _issue_of(entry: _ResponseEntry) -> str:
    """The FHIR issue code Min Log gave for a refused entry (a code from a closed set), never its text."""
    outcome = entry.response.outcome
    codes = [i.code for i in outcome.issue if i.code and _ISSUE_CODE.fullmatch(i.code)] if outcome else []
    return f", issue {codes[0]}" if codes else ""


class UnmappableRecord(ValueError):
    """A record the ``AuditEvent`` mapping cannot express; the message names the reason, never the data."""


def batch_bundle(records: Sequence[AccessRecord], *, observer: str = "patientoverblik") -> dict[str, Any]:
    """A FHIR ``batch`` Bundle with one conditional create of an ``AuditEvent`` per record."""
    entries = [_entry_of(record, audit_event(record, observer=observer)) for record in records]
    return {"resourceType": "Bundle", "type": "batch", "entry": entries}


_BUNDLE_START = b'{"resourceType":"Bundle","type":"batch","entry":['
_BUNDLE_END = b"]}"


def _entry_of(record: AccessRecord, event: dict[str, Any]) -> dict[str, Any]:
    """One entry of the ``batch`` Bundle: ``event``, created unless one with the record's tag exists."""
    condition = f"_tag={ACCESS_RECORD_SYSTEM}|{record.id}"
    return {"resource": event, "request": {"method": "POST", "url": "AuditEvent", "ifNoneExist": condition}}


def _entry(record: AccessRecord, event: dict[str, Any]) -> bytes:
    """:func:`_entry_of`, encoded once as the batch sends it (UTF-8 JSON, as httpx encodes a body).

    Raises for an event JSON cannot hold, so that record alone is refused (one whose text cannot be
    UTF-8 too: encoded with the whole batch it would have failed every record of it)."""
    text = json.dumps(_entry_of(record, event), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def audit_event(record: AccessRecord, *, observer: str = "patientoverblik") -> dict[str, Any]:
    """``record`` as a FHIR R4 ``AuditEvent`` for Min Log (mapping: ``docs/sources/minlog.md``).

    Every closed field of the record is mapped exhaustively. Raises :class:`UnmappableRecord` for a
    record the event cannot express (an id that cannot be its idempotency tag).
    """
    if not _TAG.fullmatch(record.id):
        raise UnmappableRecord("the record id cannot be an AuditEvent tag")
    write = _is_write(record.activity)
    kind = record.actor_kind
    extensions: list[dict[str, Any]] = [{"url": REQUEST_ID_URL, "valueString": record.request_id}]
    if record.override_ground is not None:
        override = [{"url": "ground", "valueCode": record.override_ground.value}]
        if record.override_reason:
            override.append({"url": "reason", "valueString": record.override_reason})
        extensions.append({"url": OVERRIDE_URL, "extension": override})
    code, description = _outcome(record)
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
        "outcome": code,
        "outcomeDesc": description,
        "purposeOfEvent": [_purpose(record, kind)],
        "agent": _agents(record, kind),
        "source": _source(observer),
        "entity": _entities(record),
    }


_TAG = re.compile(r"[A-Za-z0-9.\-_]{1,64}")
"""A FHIR ``code`` fit to be the event's tag (the record's idempotency key)."""


def _is_write(activity: AccessActivity) -> bool:
    match activity:
        case AccessActivity.READ:
            return False
        case AccessActivity.WRITE:
            return True
        case _:
            assert_never(activity)


def _outcome(record: AccessRecord) -> tuple[str, str]:
    """The event's ``outcome`` (``0`` success, ``4`` minor failure: refused, or nothing found; ``8`` serious
    failure: a change whose outcome is not confirmed) and its description."""
    outcome = record.outcome
    match outcome:
        case AccessOutcome.ACCESSED:
            parts = ["Ændring gennemført" if _is_write(record.activity) else "Oplysninger vist"]
            if record.withheld:
                parts.append("dele tilbageholdt af spærring")
            if record.denied:
                parts.append("andre oplysninger nægtet")
            return "0", "; ".join(parts)
        case AccessOutcome.REFUSED:
            return "4", "Adgang nægtet"
        case AccessOutcome.NOTHING if record.requested:
            return "4", "Ingen oplysninger vist"
        case AccessOutcome.NOTHING:
            return "0", "Opslag uden oplysninger"
        case AccessOutcome.UNCONFIRMED:
            return "8", "Ændring forsøgt; udfaldet er ikke bekræftet"
        case _:
            assert_never(outcome)


def _purpose(record: AccessRecord, kind: AccessorKind) -> dict[str, Any]:
    if record.override_ground is not None:
        text = "Værdispring (samtykke tilsidesat)"
        return {"coding": [{"system": ACT_REASON, "code": "BTG", "display": "break the glass"}], "text": text}
    code, display = _purpose_code(kind)
    return {"coding": [{"system": ACT_REASON, "code": code, "display": display}]}


def _agents(record: AccessRecord, kind: AccessorKind) -> list[dict[str, Any]]:
    actor = _actor(kind)
    requestor: dict[str, Any] = {
        "role": [
            {"coding": [{"system": actor.role_system, "code": actor.role_code}]},
            {"coding": [{"system": ACTOR_KIND_SYSTEM, "code": kind.value, "display": actor.label}]},
        ],
        "who": _who(actor.system, record.actor_id, actor.who_type, record.actor_name),
        "name": record.profession or actor.label,
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
                "type": {"system": CATEGORY_SYSTEM, "code": category.value},
                "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"},
                "name": category_name(category),
                "description": _entity_description(outcomes, _is_write(record.activity)),
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
