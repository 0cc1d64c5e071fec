"""Adapter for CPR (Det Centrale Personregister) over FHIR R4 ``Patient`` search (dk-core).

One request for any number of CPR numbers:
``GET /fhir/Patient?identifier=urn:oid:1.2.208.176.1.2|<cpr1>,<cpr2>,...`` answers a ``searchset``
Bundle (``docs/sources/cpr.md``). Each person is read on its own, with what is known: a person
without a fixed address (status 03, ``line: ["Uden fast bopæl"]``, no postal code or city) keeps the
lines there are; a ``birthDate`` of just a year or a month is the birth date the CPR number encodes
when it lies in that range (else unknown); a ``birthDate`` sent as a dateTime is its Danish date. A
person who cannot be read at all (no status, no one CPR identifier) gives only that key an error
(:mod:`sources.keyed`); messages never hold data values.

Name and address protection is read failing closed (:func:`_restricted`): any security label that
might mean restricted makes the person protected. An answer CPR marks as partial (an error
``OperationOutcome``, an entry with a search mode FHIR does not define, more pages than the budget)
fails every asked person with that error (``SOURCE_INCOMPLETE``), so no one reads as "unknown", or as
a person without protection, on CPR's partial word; redaction then treats each as protected.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from sources.base import SourceClient
from sources.datatypes import Coding, FhirDateTime, Identifier, identifier_of, parse_date_time
from sources.fhir_search import search_resources
from sources.identifiers import CPR_PATTERN, IdentifierKind, cpr_birth_date, distinct_cprs
from sources.keyed import Keyed, KeyedAnswer, key_of, records
from sources.models import AddressRecord, PersonRecord, Sex
from sources.payloads import CPR_SYSTEM, FhirModel, ShapeError

__all__ = ["CPR_SYSTEM", "CprSource"]

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
CONFIDENTIALITY_OID = "urn:oid:2.16.840.1.113883.5.25"
NOT_RESTRICTED = frozenset({"U", "L", "M", "N"})
"""Confidentiality codes that certainly do not mean restricted: unrestricted, low, moderate, normal."""
V3_MARITAL = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
DK_MARITAL = "http://hl7.dk/fhir/core/CodeSystem/dk-marital-status"
EXT = "http://patientoverblik.dk/fhir/StructureDefinition/"
STATUS_EXT = EXT + "cpr-status"
STATUS_DATE_EXT = EXT + "cpr-status-date"
CUSTODY_EXT = EXT + "custody-holder"
GUARDIAN_EXT = EXT + "guardian"

_STATUS = re.compile(r"[0-9]{2}")
_log = logging.getLogger(__name__)

_CIVIL_STATUS: dict[tuple[str | None, str | None], str] = {
    (V3_MARITAL, "U"): "U",
    (V3_MARITAL, "M"): "G",
    (V3_MARITAL, "D"): "F",
    (V3_MARITAL, "W"): "E",
    (DK_MARITAL, "P"): "P",
    (DK_MARITAL, "O"): "O",
}
"""dk-core maritalStatus → CPR civilstand (W comes back as E: widowed and longest-living partner merge)."""

_SEX = {"male": Sex.MALE, "female": Sex.FEMALE, "unknown": Sex.UNKNOWN, "other": Sex.UNKNOWN}


_Texts = Annotated[list[str], BeforeValidator(lambda value: [] if value is None else value)]
"""A list of strings, where ``null`` (which some servers send for an empty one) is the empty list."""


class _Model(BaseModel):
    model_config = FhirModel.model_config


class _CodeableConcept(_Model):
    coding: list[Coding] = []


class _Reference(_Model):
    identifier: Identifier | None = None


class _Extension(_Model):
    url: str
    value_coding: Coding | None = None
    value_date: object = None
    value_identifier: Identifier | None = None


class _HumanName(_Model):
    use: str | None = None
    family: str = ""
    given: _Texts = []


class _Address(_Model):
    use: str | None = None
    line: _Texts = []
    postal_code: str | None = None
    city: str | None = None
    district: str | None = None


class _Link(_Model):
    other: _Reference
    type: str


class _Patient(_Model):
    resource_type: Literal["Patient"]
    meta: object = None
    extension: list[_Extension] = []
    identifier: list[Identifier] = Field(min_length=1)
    name: list[_HumanName] = []
    gender: str | None = None
    birth_date: object = None
    address: list[_Address] = []
    marital_status: _CodeableConcept | None = None
    link: list[_Link] = []


class _Identity(_Model):
    """What names the person an entry is about, read even when the rest of it is unusable."""

    identifier: list[Identifier] = []

    @property
    def key(self) -> str | None:
        return identifier_of(self.identifier, IdentifierKind.CPR)


class CprSource:
    """Person data from CPR, many persons per request."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def persons_for(self, cprs: Sequence[str]) -> dict[str, PersonRecord | None]:
        """The person for each distinct CPR number, ``None`` when CPR does not know it *or* it could not be read.

        For access decisions, which fail closed on a person they cannot see; the overview reads
        :meth:`read_persons`, which tells the two apart. Raises ``ValueError`` for a number that is not
        ten digits (callers validate at the edge).
        """
        return records(await self.read_persons(cprs))

    async def read_persons(self, cprs: Sequence[str]) -> Keyed[PersonRecord]:
        """The person for each distinct CPR number (``None`` when unknown, an error when unreadable), in one request."""
        wanted = distinct_cprs(cprs)
        if not wanted:
            return {}
        found = await search_resources(
            self._client, "/fhir/Patient", [("identifier", f"{CPR_SYSTEM}|{','.join(wanted)}")]
        )
        answer = KeyedAnswer[PersonRecord](wanted)
        for resource in found.resources:
            cpr = key_of(_Identity, resource)
            try:
                record = _person(_Patient.model_validate(resource), cpr)
            except (ValidationError, ShapeError) as exc:
                reason = exc if isinstance(exc, ShapeError) else "it failed validation"
                answer.fail(cpr, self._client.invalid(f"a person was left out: {reason}"))
                continue
            answer.record(record.cpr, record)
        if found.problems:  # CPR says its answer is partial: no person of it can be trusted to be whole
            return dict.fromkeys(wanted, found.problems[0])
        if found.unreadable:  # an entry no one can be told from: whoever was left out is not "unknown"
            answer.fail(None, self._client.invalid("a search entry was not a resource"))
        return answer.answer()

    async def represented_by(self, holder_cpr: str) -> list[PersonRecord]:
        """Every person CPR records ``holder_cpr`` as custody holder or guardian of, in one request.

        The search parameter ``relation-holder`` (docs/sources/cpr.md), for ``me.actsFor``. A person who
        cannot be read, or whose record does not name the holder, is left out: never more representation
        than CPR states. Raises ``ValueError`` for a key that is not ten digits.
        """
        if not CPR_PATTERN.fullmatch(holder_cpr):
            raise ValueError("not a CPR number")
        searched = await search_resources(
            self._client, "/fhir/Patient", [("relation-holder", f"{CPR_SYSTEM}|{holder_cpr}")]
        )
        found: list[PersonRecord] = []
        for resource in searched.resources:
            try:
                record = _person(_Patient.model_validate(resource), key_of(_Identity, resource))
            except (ValidationError, ShapeError):
                _log.warning("cpr: a represented person was left out: it failed validation")
                continue
            if holder_cpr in record.custody_holders or holder_cpr in record.guardians:
                found.append(record)
        return found


def _cpr_value(identifier: Identifier | None) -> str | None:
    """A linked person's CPR number, ``None`` when the link does not hold a well-formed one."""
    return identifier.normalised(IdentifierKind.CPR) if identifier is not None else None


def _date_time(value: object) -> FhirDateTime | None:
    """A date of any precision, or ``None`` when it is missing or not a date (what is not known)."""
    try:
        return parse_date_time(value) if value is not None else None
    except ValueError:
        return None


def _birth_date(raw: object, cpr: str) -> date | None:
    """The exact birth date: the day given, else the one the CPR number encodes when it fits a partial date."""
    value = _date_time(raw)
    if value is None:
        return None
    if value.day is not None:
        return value.day
    encoded = cpr_birth_date(cpr)
    return encoded if encoded is not None and value.days.contains(encoded) else None


def _person(patient: _Patient, cpr: str | None) -> PersonRecord:
    if cpr is None:
        raise ShapeError("it has not exactly one CPR identifier")

    status: str | None = None
    status_date: date | None = None
    custody: list[str] = []
    guardians: list[str] = []
    for ext in patient.extension:
        if ext.url == STATUS_EXT:
            coding = ext.value_coding
            if coding is None or coding.code is None or not _STATUS.fullmatch(coding.code):
                raise ShapeError("cpr-status extension has no two-digit code")
            status = coding.code
        elif ext.url == STATUS_DATE_EXT:
            given = _date_time(ext.value_date)
            status_date = given.day if given is not None else None
        elif ext.url in (CUSTODY_EXT, GUARDIAN_EXT):
            holder = _cpr_value(ext.value_identifier)
            if holder is None:
                _log.warning("cpr: a custody or guardian link without a CPR number was left out")
            else:
                (custody if ext.url == CUSTODY_EXT else guardians).append(holder)
    if status is None:
        raise ShapeError("it has no cpr-status")

    name = next((n for n in patient.name if n.use == "official"), patient.name[0] if patient.name else _HumanName())
    replaced_by = next(
        (_cpr_value(link.other.identifier) for link in patient.link if link.type == "replaced-by"),
        None,
    )
    return PersonRecord(
        cpr=cpr,
        given_name=" ".join(name.given),
        family_name=name.family,
        sex=_SEX.get(patient.gender or "unknown", Sex.UNKNOWN),
        birth_date=_birth_date(patient.birth_date, cpr),
        status=status,
        status_date=status_date,
        address=_address(patient.address),
        protected=_restricted(patient.meta),
        civil_status=_civil_status(patient.marital_status),
        replaced_by=replaced_by,
        custody_holders=tuple(custody),
        guardians=tuple(guardians),
    )


def _restricted(meta: object) -> bool:
    """Whether ``meta`` says the person may have name and address protection: fail closed.

    Protected unless every security label is certainly harmless: a confidentiality code ``U``, ``L``,
    ``M`` or ``N`` in the confidentiality system (its URL or its OID). ``R`` or ``V`` in any spelling
    (``r``, no system, the OID system), a label in another system, or ``meta`` or ``meta.security``
    that is not the shape FHIR gives them all mean protected.
    """
    if meta is None:
        return False
    if not isinstance(meta, dict):
        return True
    labels = meta.get("security")
    if labels is None:
        return False
    if not isinstance(labels, list):
        return True
    return not all(
        isinstance(label, dict)
        and label.get("system") in (CONFIDENTIALITY, CONFIDENTIALITY_OID)
        and label.get("code") in NOT_RESTRICTED
        for label in labels
    )


def _address(addresses: list[_Address]) -> AddressRecord | None:
    """The home address with what is known (no postal code or city for a person without a fixed address)."""
    if not addresses:
        return None
    address = next((a for a in addresses if a.use == "home"), addresses[0])
    line = ", ".join(part.strip() for part in address.line if part.strip())
    if not (line or address.postal_code or address.city):
        return None
    return AddressRecord(
        line=line,
        postal_code=address.postal_code or None,
        city=address.city or None,
        municipality_code=address.district,
    )


def _civil_status(marital: _CodeableConcept | None) -> str | None:
    if marital is None:
        return None
    return next((s for c in marital.coding if (s := _CIVIL_STATUS.get((c.system, c.code))) is not None), None)
