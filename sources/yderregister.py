"""Adapter for the Sikrede register (chosen GP, insurance group) and the Yderregister (practices).

Both look-ups take any number of keys in one request (``docs/sources/yderregister.md``):

- ``GET /sikrede?cpr=<cpr1>,<cpr2>`` → JSON ``{"entries": [...]}`` → :class:`GpAssignmentRecord`;
- ``GET /fhir/Organization?identifier=urn:oid:1.2.208.176.1.4|<ydernr1>,...`` → FHIR Bundle of
  ``Organization`` + ``PractitionerRole`` → :class:`PracticeRecord` with :class:`DoctorRecord`.

Payloads are validated with pydantic models; any shape mismatch is a
:class:`~sources.errors.SourceResponseInvalid` whose message holds no data values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictInt, ValidationError

from sources.base import SourceClient
from sources.identifiers import CPR_PATTERN, distinct_cprs
from sources.models import AddressRecord, DoctorRecord, GpAssignmentRecord, PracticeRecord
from sources.payloads import SOR_SYSTEM, FhirModel, ShapeError

__all__ = ["YDER_SYSTEM", "YderregisterSource"]

YDER_SYSTEM = "urn:oid:1.2.208.176.1.4"
AUTH_SYSTEM = "https://autregweb.sst.dk"

_YDERNUMMER = re.compile(r"[0-9]{1,6}")
_KNOWN_GROUPS = frozenset({1, 2, 4, 5, 6, 7, 8, 9})
"""The sygesikringsgrupper NSP knows (domain.md §1.2); only 1 and 2 are citizen-facing."""


def _known_group(group: int) -> int:
    if group not in _KNOWN_GROUPS:
        raise ValueError("unknown sygesikringsgruppe")
    return group


class _Model(BaseModel):
    model_config = FhirModel.model_config


class _SikredeEntry(_Model):
    cpr: str = Field(pattern=f"^{CPR_PATTERN.pattern}$")
    egen_laege_ydernummer: str | None = Field(default=None, pattern=f"^{_YDERNUMMER.pattern}$")
    sygesikringsgruppe: Annotated[StrictInt, AfterValidator(_known_group)]


class _SikredeAnswer(_Model):
    entries: list[_SikredeEntry]


class _Identifier(_Model):
    system: str | None = None
    value: str | None = None


class _Reference(_Model):
    identifier: _Identifier | None = None
    display: str | None = None


class _ContactPoint(_Model):
    system: str | None = None
    value: str | None = None


class _Address(_Model):
    use: str | None = None
    line: list[str] = []
    postal_code: str
    city: str
    district: str | None = None


class _Organization(_Model):
    resource_type: Literal["Organization"]
    identifier: list[_Identifier] = Field(min_length=1)
    name: str
    telecom: list[_ContactPoint] = []
    address: list[_Address] = []


class _PractitionerRole(_Model):
    resource_type: Literal["PractitionerRole"]
    organization: _Reference
    practitioner: _Reference


class _Entry(_Model):
    resource: Annotated[_Organization | _PractitionerRole, Field(discriminator="resource_type")]


class _Bundle(_Model):
    resource_type: Literal["Bundle"]
    type: Literal["searchset"]
    entry: list[_Entry] = []


class YderregisterSource:
    """The patient's own GP (Sikrede) and the practices behind ydernumre (Yderregister)."""

    def __init__(self, client: SourceClient) -> None:
        self._client = client

    async def gp_assignments_for(self, cprs: Sequence[str]) -> dict[str, GpAssignmentRecord | None]:
        """Each distinct CPR number's Sikrede entry (``None`` when unknown), in one request.

        Raises ``ValueError`` for a number that is not ten digits (callers validate at the edge).
        """
        wanted = distinct_cprs(cprs)
        result: dict[str, GpAssignmentRecord | None] = dict.fromkeys(wanted)
        if not wanted:
            return result
        payload = await self._client.get_json("/sikrede", {"cpr": ",".join(wanted)})
        try:
            answer = _SikredeAnswer.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("sikrede answer failed validation") from exc
        for entry in answer.entries:
            if entry.cpr in result and result[entry.cpr] is None:
                result[entry.cpr] = GpAssignmentRecord(
                    cpr=entry.cpr, ydernummer=entry.egen_laege_ydernummer, insurance_group=entry.sygesikringsgruppe
                )
        return result

    async def practices_for(self, ydernumre: Sequence[str]) -> dict[str, PracticeRecord | None]:
        """Each distinct ydernummer's practice and doctors (``None`` when unknown), in one request.

        Ydernumre are kept as given (no zero padding); raises ``ValueError`` for anything but 1 to 6 digits.
        """
        result: dict[str, PracticeRecord | None] = dict.fromkeys(ydernumre)
        if not result:
            return result
        if not all(_YDERNUMMER.fullmatch(y) for y in result):
            raise ValueError("not a ydernummer")
        wanted = list(result)
        payload = await self._client.get_json("/fhir/Organization", {"identifier": f"{YDER_SYSTEM}|{','.join(wanted)}"})
        try:
            bundle = _Bundle.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("Organization search bundle failed validation") from exc
        try:
            practices = _practices(bundle)
        except ShapeError as exc:
            raise self._client.invalid(str(exc)) from exc
        for ydernummer, practice in practices.items():
            if ydernummer in result:
                result[ydernummer] = practice
        return result


def _ydernummer(identifiers: Sequence[_Identifier | None], what: str) -> str:
    values = [i.value for i in identifiers if i is not None and i.system == YDER_SYSTEM]
    if len(values) != 1 or values[0] is None or not _YDERNUMMER.fullmatch(values[0]):
        raise ShapeError(f"{what} has no valid ydernummer identifier")
    return values[0]


def _practices(bundle: _Bundle) -> dict[str, PracticeRecord]:
    organizations: dict[str, _Organization] = {}
    doctors: dict[str, list[DoctorRecord]] = {}
    for entry in bundle.entry:
        resource = entry.resource
        if isinstance(resource, _Organization):
            organizations.setdefault(_ydernummer(resource.identifier, "Organization"), resource)
        else:
            ydernummer = _ydernummer([resource.organization.identifier], "PractitionerRole organization")
            doctors.setdefault(ydernummer, []).append(_doctor(resource.practitioner))
    return {
        ydernummer: _practice(ydernummer, organization, doctors.get(ydernummer, []))
        for ydernummer, organization in organizations.items()
    }


def _doctor(practitioner: _Reference) -> DoctorRecord:
    if not practitioner.display:
        raise ShapeError("PractitionerRole practitioner has no display name")
    identifier = practitioner.identifier
    authorization_id = identifier.value if identifier is not None and identifier.system == AUTH_SYSTEM else None
    return DoctorRecord(name=practitioner.display, authorization_id=authorization_id)


def _practice(ydernummer: str, organization: _Organization, doctors: list[DoctorRecord]) -> PracticeRecord:
    sor = next((i.value for i in organization.identifier if i.system == SOR_SYSTEM and i.value), None)
    phone = next((t.value for t in organization.telecom if t.system == "phone" and t.value), None)
    address: AddressRecord | None = None
    if organization.address:
        first = organization.address[0]
        address = AddressRecord(
            line=", ".join(first.line),
            postal_code=first.postal_code,
            city=first.city,
            municipality_code=first.district,
        )
    return PracticeRecord(
        ydernummer=ydernummer,
        sor=sor,
        name=organization.name,
        address=address,
        phone=phone,
        doctors=tuple(doctors),
    )
