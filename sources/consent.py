"""Samtykkeservice / "Min Spærring" (SDS, NSP): citizens' blocks (negative consents) on sharing.

Reads FHIR R4 ``Consent`` resources with a ``deny`` provision for many patients in one search and
maps each to a :class:`~sources.models.BlockRecord`: an ``actor`` with an authorisation ID blocks a
professional, one with a SOR code blocks an organisation (narrowed by ``dataPeriod`` if present),
and a provision with only a ``dataPeriod`` blocks data from that period. Anything else is refused
as invalid, never silently dropped. Writes create a block (``POST``) and withdraw one by id
(``DELETE``). Wire format: ``docs/sources/consent.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, StrictBool, ValidationError

from sources.base import SourceClient
from sources.identifiers import CPR_PATTERN, distinct_cprs
from sources.models import BlockKind, BlockRecord, PeriodRecord
from sources.payloads import CPR_SYSTEM, SOR_SYSTEM, FhirDate, FhirModel

AUTHORIZATION_SYSTEM = "https://autregweb.sst.dk"
INCLUDE_SUBUNITS_URL = "http://patientoverblik.dk/fhir/StructureDefinition/include-subunits"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

BLOCK_ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")
"""A block's id: a FHIR resource id (letters, digits, ``-`` and ``.``, at most 64)."""


_Model = FhirModel


class _Identifier(_Model):
    system: str | None = None
    value: str = Field(min_length=1)


class _Reference(_Model):
    identifier: _Identifier | None = None


class _Period(_Model):
    start: FhirDate | None = None
    end: FhirDate | None = None


class _Extension(_Model):
    url: str
    value_boolean: StrictBool | None = None


class _Actor(_Model):
    reference: _Reference


class _Provision(_Model):
    type: Literal["deny"]
    period: _Period | None = None
    actor: list[_Actor] = Field(default_factory=list, max_length=1)
    data_period: _Period | None = None
    extension: list[_Extension] = Field(default_factory=list)


class _Consent(_Model):
    resource_type: Literal["Consent"]
    id: str = Field(pattern=f"^{BLOCK_ID_PATTERN.pattern}$")
    status: str
    patient: _Reference
    provision: _Provision


class _Entry(_Model):
    resource: dict[str, Any]


class _Bundle(_Model):
    resource_type: Literal["Bundle"]
    entry: list[_Entry] = Field(default_factory=list)


class ConsentSource:
    """The patients' active blocks, in one search for many patients; creating and withdrawing blocks."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def blocks_for(self, cprs: Sequence[str]) -> dict[str, list[BlockRecord]]:
        """Each asked CPR's active blocks (``[]`` when none), in one request."""
        wanted = distinct_cprs(cprs)
        if not wanted:
            return {}
        payload = await self._client.get_json(
            "/fhir/Consent", {"patient.identifier": f"{CPR_SYSTEM}|{','.join(wanted)}", "status": "active"}
        )
        try:
            bundle = _Bundle.model_validate(payload)
            consents = [
                _Consent.model_validate(e.resource) for e in bundle.entry if e.resource.get("resourceType") == "Consent"
            ]
        except ValidationError as exc:
            raise self._client.invalid("consent bundle failed validation") from exc
        result: dict[str, list[BlockRecord]] = {cpr: [] for cpr in wanted}
        for consent in consents:
            if consent.status != "active":
                continue
            block = self._block(consent)
            if block.cpr in result:
                result[block.cpr].append(block)
        return result

    async def create_block(self, block: BlockRecord) -> BlockRecord:
        """Store a new block; returns it as stored (with the id the service gave it)."""
        if not CPR_PATTERN.fullmatch(block.cpr):
            raise ValueError("not a CPR number")
        payload, _ = await self._client.send_json(
            "POST", "/fhir/Consent", _consent_body(block), headers={"Content-Type": "application/fhir+json"}
        )
        try:
            consent = _Consent.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("stored consent failed validation") from exc
        return self._block(consent)

    async def revoke_block(self, cpr: str, block_id: str) -> None:
        """Withdraw the block ``block_id`` (``DELETE``; the service answers ``204``).

        The service deletes by id alone: the caller must first check that the block is one of
        ``cpr``'s (``blocks_for``). Raises ``ValueError`` for a malformed CPR number or id,
        :class:`~sources.errors.SourceRejected` when the service has no such block (``404``).
        """
        if not CPR_PATTERN.fullmatch(cpr):
            raise ValueError("not a CPR number")
        if not BLOCK_ID_PATTERN.fullmatch(block_id):
            raise ValueError("not a block id")
        await self._client.send_json("DELETE", f"/fhir/Consent/{block_id}")

    def _block(self, consent: _Consent) -> BlockRecord:
        patient = consent.patient.identifier
        if patient is None or patient.system != CPR_SYSTEM or not CPR_PATTERN.fullmatch(patient.value):
            raise self._client.invalid("consent without a CPR identifier")
        provision = consent.provision
        data_period = _period(provision.data_period) if provision.data_period else None
        common: dict[str, Any] = {
            "id": consent.id,
            "cpr": patient.value,
            "validity": _period(provision.period) if provision.period else PeriodRecord(),
            "data_period": data_period,
            "include_subunits": any(
                e.url == INCLUDE_SUBUNITS_URL and e.value_boolean is True for e in provision.extension
            ),
        }
        if provision.actor:
            actor = provision.actor[0].reference.identifier
            if actor is not None and actor.system == AUTHORIZATION_SYSTEM:
                return BlockRecord(kind=BlockKind.PROFESSIONAL, authorization_id=actor.value, **common)
            if actor is not None and actor.system == SOR_SYSTEM:
                return BlockRecord(kind=BlockKind.ORGANISATION, organisation_sor=actor.value, **common)
            raise self._client.invalid("consent actor is neither a professional nor an organisation")
        if data_period is not None:
            return BlockRecord(kind=BlockKind.DATA_PERIOD, **common)
        raise self._client.invalid("consent blocks neither an actor nor a data period")


def _period(period: _Period) -> PeriodRecord:
    return PeriodRecord(period.start, period.end)


def _period_body(period: PeriodRecord) -> dict[str, str]:
    return {key: day.isoformat() for key, day in (("start", period.start), ("end", period.end)) if day is not None}


def _consent_body(block: BlockRecord) -> dict[str, Any]:
    provision: dict[str, Any] = {"type": "deny"}
    if validity := _period_body(block.validity):
        provision["period"] = validity
    actor = {
        BlockKind.PROFESSIONAL: (AUTHORIZATION_SYSTEM, block.authorization_id),
        BlockKind.ORGANISATION: (SOR_SYSTEM, block.organisation_sor),
    }.get(block.kind)
    if actor is not None:
        if not actor[1]:
            raise ValueError("block without its actor")
        role = {"coding": [{"system": PARTICIPATION_SYSTEM, "code": "PRCP"}]}
        provision["actor"] = [{"role": role, "reference": {"identifier": {"system": actor[0], "value": actor[1]}}}]
    if block.data_period is not None:
        provision["dataPeriod"] = _period_body(block.data_period)
    if block.kind is BlockKind.ORGANISATION:
        provision["extension"] = [{"url": INCLUDE_SUBUNITS_URL, "valueBoolean": block.include_subunits}]
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"identifier": {"system": CPR_SYSTEM, "value": block.cpr}},
        "policyRule": {"text": "Sundhedsloven § 42a"},
        "provision": provision,
    }
