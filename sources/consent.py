"""Samtykkeservice / "Min Spærring" (SDS, NSP): citizens' blocks (negative consents) on sharing.

Reads FHIR R4 ``Consent`` resources with a ``deny`` provision for many patients in one search and
maps each to a :class:`~sources.models.BlockRecord`: an ``actor`` with an authorisation ID blocks a
professional, one with a SOR code blocks an organisation (narrowed by ``dataPeriod`` if present),
and a provision with only a ``dataPeriod`` blocks data from that period. Identifiers are read in
their normal form (:mod:`sources.identifiers`: ``"CBDJ6 "`` is ``CBDJ6``); dates of any precision
as their widest reading (a ``dataPeriod`` of ``2019`` to ``2020`` is 2019-01-01..2020-12-31; a validity
end written in UTC is its Danish date, so a block never lapses a day early).

These are access-decision inputs, so everything fails **closed**, per patient: a consent that cannot
be read, or whose actor cannot be matched with certainty (garbage, an unknown identifier system, two
actors), becomes an *unmatchable* block of its patient, one that applies to every professional or
organisation (``BlockRecord.unmatchable``); one whose patient cannot be told is such a block of every
asked patient. Only an entry the adapter can tell with certainty is no block in force is left out: a
``Consent`` whose status is exactly ``draft``, ``rejected``, ``inactive`` or ``entered-in-error``
(:data:`NOT_IN_FORCE`). Every other consent counts, whatever its status says (``Active``,
``"active "``, none), whatever its entry's search mode (``match``, ``include``, ``outcome``, one FHIR
does not define), and a resource type spelled ``consent`` is a consent that cannot be read. An
answer the service reports as partial (an error ``OperationOutcome``, a page budget that ran out)
and a result of another resource type fail the whole batch (:class:`~sources.errors.SourceIncomplete`,
``SourceResponseInvalid``): every asked patient's decision fails closed. Nothing is silently dropped.
Writes create a block (``POST``) and withdraw one by id (``DELETE``). Wire format:
``docs/sources/consent.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, ValidationError

from sources.base import SourceClient
from sources.datatypes import Extension, Period, Reference, identifier_of, period_days
from sources.fhir_search import search_resources
from sources.identifiers import AUTHORIZATION_SYSTEM, CPR_PATTERN, IdentifierKind, distinct_cprs
from sources.models import BlockKind, BlockRecord, PeriodRecord
from sources.payloads import CPR_SYSTEM, SOR_SYSTEM, FhirModel

__all__ = ["AUTHORIZATION_SYSTEM", "BLOCK_ID_PATTERN", "ConsentSource"]

INCLUDE_SUBUNITS_URL = "http://patientoverblik.dk/fhir/StructureDefinition/include-subunits"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

BLOCK_ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")
"""A block's id: a FHIR resource id (letters, digits, ``-`` and ``.``, at most 64)."""


_Model = FhirModel


class _Actor(_Model):
    reference: Reference


class _Provision(_Model):
    type: Literal["deny"]
    period: Period | None = None
    actor: list[_Actor] = Field(default_factory=list)
    data_period: Period | None = None
    extension: list[Extension] = Field(default_factory=list)


NOT_IN_FORCE = frozenset({"draft", "rejected", "inactive", "entered-in-error"})
"""Consent statuses that are certainly not a block in force: such a consent is left out. Any other status
(``active``, but also ``Active``, ``"active "``, ``proposed``, none at all) may be one, so it counts."""


class _Consent(_Model):
    resource_type: Literal["Consent"]
    id: str = Field(pattern=f"^{BLOCK_ID_PATTERN.pattern}$")
    status: str | None = None
    patient: Reference
    provision: _Provision


class ConsentSource:
    """The patients' active blocks, in one search for many patients; creating and withdrawing blocks."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def blocks_for(self, cprs: Sequence[str]) -> dict[str, list[BlockRecord]]:
        """Each asked CPR's active blocks (``[]`` when none), in one search; unreadable ones as unmatchable."""
        wanted = distinct_cprs(cprs)
        if not wanted:
            return {}
        found = await search_resources(
            self._client,
            "/fhir/Consent",
            [("patient.identifier", f"{CPR_SYSTEM}|{','.join(wanted)}"), ("status", "active")],
        )
        problems = [p for p in found.problems if p is not found.stray_problem]
        if problems:
            raise problems[0]
        if not all(_consent_like(r) for r in [*found.resources, *found.stray]):  # no consent: cannot be trusted
            raise self._client.invalid("a consent search answered with another kind of resource")
        result: dict[str, list[BlockRecord]] = {cpr: [] for cpr in wanted}
        unreadable = [{"resourceType": "Consent"}] * found.unreadable
        included = [r for r in {id(r): r for r in found.included.values()}.values() if _consent_like(r)]
        for resource in [*found.resources, *found.stray, *included, *unreadable]:
            for block in _blocks(resource, wanted):
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
        cpr = identifier_of([consent.patient.identifier] if consent.patient.identifier else [], IdentifierKind.CPR)
        if cpr is None:
            raise self._client.invalid("consent without a CPR identifier")
        return _block(consent, cpr)


def _consent_like(resource: dict[str, Any]) -> bool:
    """A ``Consent``, also one whose type is misspelt (``consent``): what may be a block."""
    kind = resource.get("resourceType")
    return isinstance(kind, str) and kind.strip().casefold() == "consent"


def _blocks(resource: dict[str, Any], wanted: list[str]) -> list[BlockRecord]:
    """The blocks one consent of the search means: its own, or unmatchable ones where it cannot be read."""
    try:
        consent: _Consent | None = _Consent.model_validate(resource)
    except ValidationError:
        consent = None
    status, block_id = resource.get("status"), resource.get("id")
    if isinstance(status, str) and status in NOT_IN_FORCE and resource.get("resourceType") == "Consent":
        return []
    cpr = _patient_of(resource.get("patient"))
    if consent is not None and cpr is not None:
        return [_block(consent, cpr)]
    block_id = block_id if isinstance(block_id, str) and BLOCK_ID_PATTERN.fullmatch(block_id) else ""
    owners = [cpr] if cpr is not None else wanted
    return [BlockRecord(block_id, owner, BlockKind.PROFESSIONAL, unmatchable=True) for owner in owners]


def _patient_of(value: object) -> str | None:
    """The one CPR number a consent's ``patient`` reference carries, read even when the rest is unusable."""
    try:
        patient = Reference.model_validate(value).identifier
    except ValidationError:
        return None
    return identifier_of([patient], IdentifierKind.CPR) if patient is not None else None


def _block(consent: _Consent, cpr: str) -> BlockRecord:
    """A readable consent of patient ``cpr`` as its block; an actor that cannot be matched makes it unmatchable."""
    provision = consent.provision
    data_period = period_days(provision.data_period) if provision.data_period else None
    common: dict[str, Any] = {
        "id": consent.id,
        "cpr": cpr,
        "validity": period_days(provision.period),
        "data_period": data_period,
        "include_subunits": any(e.url == INCLUDE_SUBUNITS_URL and e.value_boolean is True for e in provision.extension),
    }
    if not provision.actor:
        if data_period is not None:
            return BlockRecord(kind=BlockKind.DATA_PERIOD, **common)
        return BlockRecord(kind=BlockKind.PROFESSIONAL, unmatchable=True, **common)
    identifier = provision.actor[0].reference.identifier if len(provision.actor) == 1 else None
    kind = identifier.kind if identifier is not None else None
    if identifier is not None and kind is IdentifierKind.AUTHORIZATION_ID:
        authorization_id = identifier.normalised(kind)
        return BlockRecord(
            kind=BlockKind.PROFESSIONAL,
            authorization_id=authorization_id,
            unmatchable=authorization_id is None,
            **common,
        )
    if identifier is not None and kind is IdentifierKind.SOR:
        sor = identifier.normalised(kind)
        return BlockRecord(kind=BlockKind.ORGANISATION, organisation_sor=sor, unmatchable=sor is None, **common)
    return BlockRecord(kind=BlockKind.PROFESSIONAL, unmatchable=True, **common)


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
