"""Fælles Stamkort (Stamkortregister, SDS): the patient's master card, readable and writable.

Reads FHIR R4 ``Patient`` contact data with its ``RelatedPerson``s in one search for many CPR numbers,
and writes a whole card back with ``PUT`` + ``If-Match`` (optimistic versions). Wire format:
``docs/sources/stamkort.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, ValidationError

from sources.base import SourceClient
from sources.identifiers import CPR_PATTERN, distinct_cprs
from sources.models import AddressRecord, MasterCardRecord, RelativeRecord, TemporaryAddressRecord
from sources.payloads import CPR_SYSTEM, FhirDate, FhirModel

DENTIST_URL = "http://patientoverblik.dk/fhir/StructureDefinition/dentist"
MUNICIPALITY_URL = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes"
MUNICIPALITY_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"

_VERSION = re.compile(r"[0-9A-Za-z.\-]+")
_ETAG = re.compile(r'(?:W/)?"([0-9A-Za-z.\-]+)"')


_Model = FhirModel


class _Identifier(_Model):
    system: str | None = None
    value: str


class _Reference(_Model):
    reference: str | None = None
    identifier: _Identifier | None = None


class _Coding(_Model):
    system: str | None = None
    code: str


class _CodeableConcept(_Model):
    coding: list[_Coding] = Field(default_factory=list)


class _Extension(_Model):
    url: str
    value_string: str | None = None
    value_codeable_concept: _CodeableConcept | None = None


class _ContactPoint(_Model):
    system: str | None = None
    value: str
    use: str | None = None


class _Period(_Model):
    start: FhirDate | None = None
    end: FhirDate | None = None


class _Address(_Model):
    use: str | None = None
    line: list[str] = Field(min_length=1)
    postal_code: str
    city: str
    period: _Period | None = None
    extension: list[_Extension] = Field(default_factory=list)


class _Communication(_Model):
    language: _CodeableConcept
    preferred: bool = False


class _HumanName(_Model):
    given: list[str] = Field(default_factory=list)
    family: str | None = None


class _Relationship(_Model):
    text: str | None = None


class _RelatedPerson(_Model):
    resource_type: Literal["RelatedPerson"]
    patient: _Reference | None = None
    name: list[_HumanName] = Field(min_length=1)
    telecom: list[_ContactPoint] = Field(default_factory=list)
    relationship: list[_Relationship] = Field(default_factory=list)


class _Meta(_Model):
    version_id: str | None = None


class _Patient(_Model):
    resource_type: Literal["Patient"]
    meta: _Meta = Field(default_factory=_Meta)
    identifier: list[_Identifier] = Field(default_factory=list)
    telecom: list[_ContactPoint] = Field(default_factory=list)
    address: list[_Address] = Field(default_factory=list)
    communication: list[_Communication] = Field(default_factory=list)
    extension: list[_Extension] = Field(default_factory=list)
    contained: list[dict[str, Any]] = Field(default_factory=list)


class _Entry(_Model):
    resource: dict[str, Any]


class _Bundle(_Model):
    resource_type: Literal["Bundle"]
    entry: list[_Entry] = Field(default_factory=list)


class StamkortSource:
    """The master-card register: one search for many patients, and versioned whole-card updates."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def master_cards_for(self, cprs: Sequence[str]) -> dict[str, MasterCardRecord | None]:
        """Each asked CPR's master card, ``None`` when the register has none (one request)."""
        wanted = distinct_cprs(cprs)
        if not wanted:
            return {}
        payload = await self._client.get_json(
            "/fhir/Patient",
            {"identifier": f"{CPR_SYSTEM}|{','.join(wanted)}", "_revinclude": "RelatedPerson:patient"},
        )
        try:
            bundle = _Bundle.model_validate(payload)
            patients: dict[str, _Patient] = {}
            relatives: dict[str, list[_RelatedPerson]] = {}
            for entry in bundle.entry:
                kind = entry.resource.get("resourceType")
                if kind == "Patient":
                    patient = _Patient.model_validate(entry.resource)
                    patients.setdefault(self._cpr_of(patient.identifier), patient)
                elif kind == "RelatedPerson":
                    relative = _RelatedPerson.model_validate(entry.resource)
                    owner = relative.patient.identifier if relative.patient else None
                    relatives.setdefault(self._cpr_of([owner] if owner else []), []).append(relative)
        except ValidationError as exc:
            raise self._client.invalid("patient bundle failed validation") from exc
        return {
            cpr: self._card(cpr, patients[cpr], relatives.get(cpr, []), None) if cpr in patients else None
            for cpr in wanted
        }

    async def update_master_card(self, card: MasterCardRecord, expected_version: str) -> MasterCardRecord:
        """Replace the whole card if it is still at ``expected_version``; return it with its new version.

        Raises :class:`~sources.errors.SourceVersionConflict` when the card changed meanwhile and
        :class:`~sources.errors.SourceRejected` when the register refuses the card.
        """
        if not CPR_PATTERN.fullmatch(card.cpr):
            raise ValueError("not a CPR number")
        if not _VERSION.fullmatch(expected_version):
            raise ValueError("not a version")
        payload, headers = await self._client.send_json(
            "PUT",
            f"/fhir/Patient/{card.cpr}",
            _patient_body(card),
            headers={"If-Match": f'W/"{expected_version}"', "Content-Type": "application/fhir+json"},
        )
        try:
            patient = _Patient.model_validate(payload)
            contained = [
                _RelatedPerson.model_validate(r) for r in patient.contained if r.get("resourceType") == "RelatedPerson"
            ]
        except ValidationError as exc:
            raise self._client.invalid("stored patient failed validation") from exc
        if self._cpr_of(patient.identifier) != card.cpr:
            raise self._client.invalid("stored patient is another patient")
        etag = _ETAG.fullmatch(headers.get("etag", "").strip())
        return self._card(card.cpr, patient, contained, etag.group(1) if etag else None)

    def _cpr_of(self, identifiers: Sequence[_Identifier]) -> str:
        values = {i.value for i in identifiers if i.system == CPR_SYSTEM}
        if len(values) != 1 or not CPR_PATTERN.fullmatch(cpr := values.pop()):
            raise self._client.invalid("resource without one CPR identifier")
        return cpr

    def _card(
        self, cpr: str, patient: _Patient, relatives: Sequence[_RelatedPerson], etag_version: str | None
    ) -> MasterCardRecord:
        version = patient.meta.version_id or etag_version
        if not version:
            raise self._client.invalid("patient without version")
        temporary = [a for a in patient.address if a.use == "temp"]
        if len(temporary) > 1:
            raise self._client.invalid("more than one temporary address")
        return MasterCardRecord(
            cpr=cpr,
            version=version,
            phone=_phone(patient.telecom),
            temporary_address=_temporary_address(temporary[0]) if temporary else None,
            dentist=next((e.value_string for e in patient.extension if e.url == DENTIST_URL), None),
            preferred_language=_language(patient.communication),
            relatives=tuple(self._relative(r) for r in relatives),
        )

    def _relative(self, person: _RelatedPerson) -> RelativeRecord:
        name = person.name[0]
        if not name.given or not name.given[0].strip():
            raise self._client.invalid("relative without first name")
        return RelativeRecord(
            first_name=name.given[0],
            surname=name.family or None,
            phone=_phone(person.telecom),
            relation=next((r.text for r in person.relationship if r.text), None),
        )


def _phone(telecom: Sequence[_ContactPoint]) -> str | None:
    phones = [t for t in telecom if t.system == "phone"]
    phones.sort(key=lambda t: t.use != "mobile")
    return phones[0].value if phones else None


def _temporary_address(address: _Address) -> TemporaryAddressRecord:
    municipality = next(
        (
            c.code
            for e in address.extension
            if e.url == MUNICIPALITY_URL and e.value_codeable_concept
            for c in e.value_codeable_concept.coding
        ),
        None,
    )
    record = AddressRecord(", ".join(address.line), address.postal_code, address.city, municipality)
    return TemporaryAddressRecord(record, address.period.end if address.period else None)


def _language(communications: Sequence[_Communication]) -> str | None:
    ordered = sorted(communications, key=lambda c: not c.preferred)
    for communication in ordered:
        codings = sorted(communication.language.coding, key=lambda c: c.system != LANGUAGE_SYSTEM)
        if codings:
            return codings[0].code
    return None


def _patient_body(card: MasterCardRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "id": card.cpr,
        "identifier": [{"system": CPR_SYSTEM, "value": card.cpr}],
        "contained": [_relative_body(index, relative) for index, relative in enumerate(card.relatives)],
    }
    if card.dentist is not None:
        body["extension"] = [{"url": DENTIST_URL, "valueString": card.dentist}]
    if card.phone is not None:
        body["telecom"] = [{"system": "phone", "value": card.phone, "use": "mobile"}]
    if card.temporary_address is not None:
        body["address"] = [_address_body(card.temporary_address)]
    if card.preferred_language is not None:
        coding = {"system": LANGUAGE_SYSTEM, "code": card.preferred_language}
        body["communication"] = [{"language": {"coding": [coding]}, "preferred": True}]
    return body


def _address_body(temporary: TemporaryAddressRecord) -> dict[str, Any]:
    address = temporary.address
    body: dict[str, Any] = {
        "use": "temp",
        "line": [address.line],
        "postalCode": address.postal_code,
        "city": address.city,
    }
    if address.municipality_code:
        coding = {"system": MUNICIPALITY_SYSTEM, "code": address.municipality_code}
        body["extension"] = [{"url": MUNICIPALITY_URL, "valueCodeableConcept": {"coding": [coding]}}]
    if temporary.end_date is not None:
        body["period"] = {"end": temporary.end_date.isoformat()}
    return body


def _relative_body(index: int, relative: RelativeRecord) -> dict[str, Any]:
    name: dict[str, Any] = {"given": [relative.first_name]}
    if relative.surname is not None:
        name["family"] = relative.surname
    body: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": f"rel-{index}",
        "patient": {"reference": "#"},
        "name": [name],
    }
    if relative.phone is not None:
        body["telecom"] = [{"system": "phone", "value": relative.phone}]
    if relative.relation is not None:
        body["relationship"] = [{"text": relative.relation}]
    return body
