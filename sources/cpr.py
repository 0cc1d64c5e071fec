"""Adapter for CPR (Det Centrale Personregister) over FHIR R4 ``Patient`` search (dk-core).

One request for any number of CPR numbers:
``GET /fhir/Patient?identifier=urn:oid:1.2.208.176.1.2|<cpr1>,<cpr2>,...`` answers a ``searchset``
Bundle (``docs/sources/cpr.md``). The payload is validated with pydantic models and mapped to
:class:`~sources.models.PersonRecord`; any shape mismatch is a
:class:`~sources.errors.SourceResponseInvalid` whose message holds no data values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from sources.base import SourceClient
from sources.identifiers import CPR_PATTERN, distinct_cprs
from sources.models import AddressRecord, PersonRecord, Sex
from sources.payloads import CPR_SYSTEM, FhirModel, ShapeError

__all__ = ["CPR_SYSTEM", "CprSource"]

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
V3_MARITAL = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
DK_MARITAL = "http://hl7.dk/fhir/core/CodeSystem/dk-marital-status"
EXT = "http://patientoverblik.dk/fhir/StructureDefinition/"
STATUS_EXT = EXT + "cpr-status"
STATUS_DATE_EXT = EXT + "cpr-status-date"
CUSTODY_EXT = EXT + "custody-holder"
GUARDIAN_EXT = EXT + "guardian"

_STATUS = re.compile(r"[0-9]{2}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

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


def _full_date(value: object) -> object:
    """Accept only ``YYYY-MM-DD`` strings (pydantic would also take numbers as timestamps)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("expected a full FHIR date")
    return value


FhirDate = Annotated[date, BeforeValidator(_full_date)]


class _Model(BaseModel):
    model_config = FhirModel.model_config


class _Coding(_Model):
    system: str | None = None
    code: str | None = None


class _CodeableConcept(_Model):
    coding: list[_Coding] = []


class _Identifier(_Model):
    system: str | None = None
    value: str | None = None


class _Reference(_Model):
    identifier: _Identifier | None = None


class _Extension(_Model):
    url: str
    value_coding: _Coding | None = None
    value_date: FhirDate | None = None
    value_identifier: _Identifier | None = None


class _HumanName(_Model):
    use: str | None = None
    family: str = ""
    given: list[str] = []


class _Address(_Model):
    use: str | None = None
    line: list[str] = []
    postal_code: str
    city: str
    district: str | None = None


class _Meta(_Model):
    security: list[_Coding] = []


class _Link(_Model):
    other: _Reference
    type: str


class _Patient(_Model):
    resource_type: Literal["Patient"]
    meta: _Meta | None = None
    extension: list[_Extension] = []
    identifier: list[_Identifier] = Field(min_length=1)
    name: list[_HumanName] = Field(min_length=1)
    gender: Literal["male", "female", "unknown", "other"] = "unknown"
    birth_date: FhirDate | None = None
    address: list[_Address] = []
    marital_status: _CodeableConcept | None = None
    link: list[_Link] = []


class _Entry(_Model):
    resource: _Patient


class _Bundle(_Model):
    resource_type: Literal["Bundle"]
    type: Literal["searchset"]
    entry: list[_Entry] = []


class CprSource:
    """Person data from CPR, many persons per request."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def persons_for(self, cprs: Sequence[str]) -> dict[str, PersonRecord | None]:
        """The person for each distinct CPR number (``None`` when CPR does not know it), in one request.

        Raises ``ValueError`` for a number that is not ten digits (callers validate at the edge).
        """
        wanted = distinct_cprs(cprs)
        result: dict[str, PersonRecord | None] = dict.fromkeys(wanted)
        if not wanted:
            return result
        payload = await self._client.get_json("/fhir/Patient", {"identifier": f"{CPR_SYSTEM}|{','.join(wanted)}"})
        try:
            bundle = _Bundle.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("Patient search bundle failed validation") from exc
        for entry in bundle.entry:
            try:
                record = _person(entry.resource)
            except ShapeError as exc:
                raise self._client.invalid(f"Patient {exc}") from exc
            if record.cpr in result and result[record.cpr] is None:
                result[record.cpr] = record
        return result


def _cpr_value(identifier: _Identifier | None, what: str) -> str:
    if identifier is None or identifier.system != CPR_SYSTEM or identifier.value is None:
        raise ShapeError(f"{what} is not a CPR identifier")
    if not CPR_PATTERN.fullmatch(identifier.value):
        raise ShapeError(f"{what} is not ten digits")
    return identifier.value


def _person(patient: _Patient) -> PersonRecord:
    cprs = [i for i in patient.identifier if i.system == CPR_SYSTEM]
    if len(cprs) != 1:
        raise ShapeError("must carry exactly one CPR identifier")
    cpr = _cpr_value(cprs[0], "identifier")

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
            if ext.value_date is None:
                raise ShapeError("cpr-status-date extension has no valueDate")
            status_date = ext.value_date
        elif ext.url == CUSTODY_EXT:
            custody.append(_cpr_value(ext.value_identifier, "custody-holder extension"))
        elif ext.url == GUARDIAN_EXT:
            guardians.append(_cpr_value(ext.value_identifier, "guardian extension"))
    if status is None:
        raise ShapeError("has no cpr-status extension")

    name = next((n for n in patient.name if n.use == "official"), patient.name[0])
    replaced_by = next(
        (_cpr_value(link.other.identifier, "replaced-by link") for link in patient.link if link.type == "replaced-by"),
        None,
    )
    return PersonRecord(
        cpr=cpr,
        given_name=" ".join(name.given),
        family_name=name.family,
        sex=_SEX[patient.gender],
        birth_date=patient.birth_date,
        status=status,
        status_date=status_date,
        address=_address(patient.address),
        protected=any(
            c.system == CONFIDENTIALITY and c.code in ("R", "V")
            for c in (patient.meta.security if patient.meta else [])
        ),
        civil_status=_civil_status(patient.marital_status),
        replaced_by=replaced_by,
        custody_holders=tuple(custody),
        guardians=tuple(guardians),
    )


def _address(addresses: list[_Address]) -> AddressRecord | None:
    if not addresses:
        return None
    address = next((a for a in addresses if a.use == "home"), addresses[0])
    return AddressRecord(
        line=", ".join(address.line),
        postal_code=address.postal_code,
        city=address.city,
        municipality_code=address.district,
    )


def _civil_status(marital: _CodeableConcept | None) -> str | None:
    if marital is None:
        return None
    return next((s for c in marital.coding if (s := _CIVIL_STATUS.get((c.system, c.code))) is not None), None)
