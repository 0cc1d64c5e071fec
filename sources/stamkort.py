"""Fælles Stamkort (Stamkortregister, SDS): the patient's master card, readable and writable.

Reads FHIR R4 ``Patient`` contact data with its ``RelatedPerson``s in one search for many CPR numbers,
and writes a whole card back with ``PUT`` + ``If-Match`` (optimistic versions). One odd entry never
sinks the batch (:mod:`sources.keyed`): a ``Patient`` that cannot be read gives its own key an error,
a relative that cannot be read (no first name, say) or a second temporary address is left out of its
card and named in ``MasterCardRecord.problems``. Wire format: ``docs/sources/stamkort.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, ValidationError

from sources.base import SourceClient
from sources.datatypes import CodeableConcept, Extension, Identifier, Meta, Period, Reference, identifier_of
from sources.errors import SourceError
from sources.identifiers import CPR_PATTERN, IdentifierKind, distinct_cprs
from sources.keyed import Keyed, KeyedAnswer, key_of, read_family
from sources.models import AddressRecord, MasterCardRecord, RelativeRecord, TemporaryAddressRecord
from sources.payloads import CPR_SYSTEM, FhirModel

DENTIST_URL = "http://patientoverblik.dk/fhir/StructureDefinition/dentist"
MUNICIPALITY_URL = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-municipalityCodes"
MUNICIPALITY_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"

_VERSION = re.compile(r"[0-9A-Za-z.\-]+")
_ETAG = re.compile(r'(?:W/)?"([0-9A-Za-z.\-]+)"')


_Model = FhirModel


_CodeableConcept = CodeableConcept


class _ContactPoint(_Model):
    system: str | None = None
    value: str
    use: str | None = None


class _Address(_Model):
    use: str | None = None
    line: list[str] = Field(min_length=1)
    postal_code: str
    city: str
    period: Period | None = None
    extension: list[Extension] = Field(default_factory=list)


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
    patient: Reference | None = None
    name: list[_HumanName] = Field(min_length=1)
    telecom: list[_ContactPoint] = Field(default_factory=list)
    relationship: list[_Relationship] = Field(default_factory=list)


class _Patient(_Model):
    resource_type: Literal["Patient"]
    meta: Meta = Field(default_factory=Meta)
    identifier: list[Identifier] = Field(default_factory=list)
    telecom: list[_ContactPoint] = Field(default_factory=list)
    address: list[_Address] = Field(default_factory=list)
    communication: list[_Communication] = Field(default_factory=list)
    extension: list[Extension] = Field(default_factory=list)
    contained: list[dict[str, Any]] = Field(default_factory=list)


class _Entry(_Model):
    resource: dict[str, Any]


class _Bundle(_Model):
    resource_type: Literal["Bundle"]
    entry: list[_Entry] = Field(default_factory=list)


class _Owner(_Model):
    """What names the card an entry belongs to, read even when the rest of the entry is unusable: a
    Patient's CPR identifier, or the CPR identifier of the Patient a RelatedPerson's ``patient`` names."""

    id: str | None = None
    identifier: list[Identifier] = Field(default_factory=list)
    patient: Reference | None = None

    @property
    def key(self) -> str | None:
        owner = self.patient.identifier if self.patient is not None else None
        return identifier_of([owner] if owner is not None else self.identifier, IdentifierKind.CPR)


def _owners(entries: Sequence[_Entry]) -> dict[str, str]:
    """Each Patient's resource id → its CPR number, for relatives that name their card by ``Patient/<id>``."""
    owners: dict[str, str] = {}
    for entry in entries:
        if entry.resource.get("resourceType") == "Patient" and isinstance(entry.resource.get("id"), str):
            cpr = key_of(_Owner, entry.resource)
            if cpr is not None:
                owners[f"Patient/{entry.resource['id']}"] = cpr
    return owners


class StamkortSource:
    """The master-card register: one search for many patients, and versioned whole-card updates."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def master_cards_for(self, cprs: Sequence[str]) -> Keyed[MasterCardRecord]:
        """Each asked CPR's master card, ``None`` when the register has none, or the error that kept it out.

        One request. A bundle that is not a searchset raises :class:`~sources.errors.SourceResponseInvalid`.
        """
        wanted = distinct_cprs(cprs)
        if not wanted:
            return {}
        payload = await self._client.get_json(
            "/fhir/Patient",
            {"identifier": f"{CPR_SYSTEM}|{','.join(wanted)}", "_revinclude": "RelatedPerson:patient"},
        )
        try:
            bundle = _Bundle.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("patient bundle failed validation") from exc
        found = KeyedAnswer[MasterCardRecord](wanted)
        by_id = _owners(bundle.entry)
        family = read_family(
            (
                (
                    e.resource.get("resourceType"),
                    key_of(_Owner, e.resource) or _literal_owner(e.resource, by_id),
                    e.resource,
                )
                for e in bundle.entry
            ),
            ("Patient", _Patient.model_validate),
            ("RelatedPerson", _RelatedPerson.model_validate),
            lambda cpr: found.fail(cpr, self._client.invalid("a master card was left out: it failed validation")),
        )
        for cpr, patient in family.heads.items():
            card = self._card(cpr, patient, family.members.get(cpr, []), None, family.lost_of(cpr))
            if isinstance(card, SourceError):
                found.fail(cpr, card)
            else:
                found.record(cpr, card)
        return found.answer()

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
        if identifier_of(patient.identifier, IdentifierKind.CPR) != card.cpr:
            raise self._client.invalid("stored patient is another patient")
        etag = _ETAG.fullmatch(headers.get("etag", "").strip())
        stored = self._card(card.cpr, patient, contained, etag.group(1) if etag else None)
        if isinstance(stored, SourceError) or stored.problems:
            raise stored if isinstance(stored, SourceError) else stored.problems[0]
        return stored

    def _card(
        self,
        cpr: str,
        patient: _Patient,
        relatives: Sequence[_RelatedPerson],
        etag_version: str | None,
        lost_relatives: int = 0,
    ) -> MasterCardRecord | SourceError:
        version = patient.meta.version_id or etag_version
        if not version:
            return self._client.invalid("a master card was left out: it has no version")
        problems: list[SourceError] = []
        temporary = [a for a in patient.address if a.use == "temp"]
        if len(temporary) > 1:
            problems.append(self._client.invalid("more than one temporary address: none is shown"))
        kept = [r for r in (_relative(person) for person in relatives) if r is not None]
        if lost_relatives or len(kept) < len(relatives):
            problems.append(self._client.invalid("a relative was left out: it failed validation"))
        return MasterCardRecord(
            cpr=cpr,
            version=version,
            phone=_phone(patient.telecom),
            temporary_address=_temporary_address(temporary[0]) if len(temporary) == 1 else None,
            dentist=next((e.value_string for e in patient.extension if e.url == DENTIST_URL), None),
            preferred_language=_language(patient.communication),
            relatives=tuple(kept),
            problems=tuple(problems),
        )


def _literal_owner(resource: dict[str, Any], by_id: dict[str, str]) -> str | None:
    """The card a RelatedPerson names by a literal ``Patient/<id>`` reference to a Patient of the answer."""
    try:
        reference = _Owner.model_validate(resource).patient
    except ValidationError:
        return None
    literal = reference.literal if reference is not None else None
    return by_id.get("/".join(literal)) if literal is not None and literal[0] == "Patient" else None


def _relative(person: _RelatedPerson) -> RelativeRecord | None:
    """A relative, or ``None`` when it has no first name (the register requires one)."""
    name = person.name[0]
    if not name.given or not name.given[0].strip():
        return None
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
    return TemporaryAddressRecord(record, address.period.days.end if address.period else None)


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
