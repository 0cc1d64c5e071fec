"""Adapter for the Sikrede register (chosen GP, insurance group) and the Yderregister (practices).

Both look-ups take any number of keys in one request (``docs/sources/yderregister.md``):

- ``GET /sikrede?cpr=<cpr1>,<cpr2>`` → JSON ``{"entries": [...]}`` → :class:`GpAssignmentRecord`;
- ``GET /fhir/Organization?identifier=urn:oid:1.2.208.176.1.4|<ydernr1>,...`` → FHIR Bundle of
  ``Organization`` + ``PractitionerRole`` → :class:`PracticeRecord` with :class:`DoctorRecord`.

Payloads are validated with pydantic models, one entry at a time (:mod:`sources.keyed`): an entry
that cannot be read gives only its own key a :class:`~sources.errors.SourceResponseInvalid` (every
unanswered key when it names none), a doctor that cannot be read is left out of the practice and
named in ``PracticeRecord.problems``; an answer that is not the expected document raises. Messages
hold no data values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictInt, ValidationError

from sources.base import SourceClient
from sources.datatypes import Identifier, Reference, identifier_of
from sources.errors import SourceError
from sources.identifiers import CPR_PATTERN, YDERNUMMER_SYSTEM, IdentifierKind, distinct_cprs
from sources.keyed import Keyed, KeyedAnswer, key_of, read_family
from sources.models import AddressRecord, DoctorRecord, GpAssignmentRecord, PracticeRecord
from sources.payloads import FhirModel, ShapeError
from sources.reference_cache import ReferenceCache

__all__ = ["YDER_SYSTEM", "YderregisterSource"]

YDER_SYSTEM = YDERNUMMER_SYSTEM

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
    entries: list[Any]


class _Named(_Model):
    """What names the patient a Sikrede entry is about, read even when the rest of it is unusable."""

    cpr: str = Field(pattern=f"^{CPR_PATTERN.pattern}$")

    @property
    def key(self) -> str | None:
        return self.cpr


class _ContactPoint(_Model):
    system: str | None = None
    value: str | None = None


class _Address(_Model):
    use: str | None = None
    line: list[str] = []
    postal_code: str | None = None
    city: str | None = None
    district: str | None = None


class _Organization(_Model):
    resource_type: Literal["Organization"]
    identifier: list[Identifier] = Field(min_length=1)
    name: str
    telecom: list[_ContactPoint] = []
    address: list[_Address] = []


class _PractitionerRole(_Model):
    resource_type: Literal["PractitionerRole"]
    organization: Reference
    practitioner: Reference


class _Identified(_Model):
    """What names the practice an entry is about, read even when the rest of it is unusable."""

    identifier: list[Identifier] = []
    organization: Reference | None = None

    @property
    def key(self) -> str | None:
        owner = self.organization.identifier if self.organization is not None else None
        return identifier_of([owner] if owner is not None else self.identifier, IdentifierKind.YDERNUMMER)


class _Entry(_Model):
    resource: Any = None


class _Bundle(_Model):
    resource_type: Literal["Bundle"]
    type: Literal["searchset"]
    entry: list[_Entry] = []


class YderregisterSource:
    """The patient's own GP (Sikrede) and the practices behind ydernumre (Yderregister).

    Practices are reference data: with a ``practices`` cache (ADR 0014) a practice read completely is
    kept for its TTL and not asked for again; a patient's Sikrede entry is never kept.
    """

    def __init__(self, client: SourceClient, practices: ReferenceCache[PracticeRecord | None] | None = None) -> None:
        self._client = client
        self._practices = practices if practices is not None else ReferenceCache[PracticeRecord | None](0, 0)

    async def gp_assignments_for(self, cprs: Sequence[str]) -> Keyed[GpAssignmentRecord]:
        """Each distinct CPR number's Sikrede entry (``None`` when unknown), in one request.

        Raises ``ValueError`` for a number that is not ten digits (callers validate at the edge).
        """
        wanted = distinct_cprs(cprs)
        if not wanted:
            return {}
        payload = await self._client.get_json("/sikrede", {"cpr": ",".join(wanted)})
        try:
            answer = _SikredeAnswer.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("sikrede answer failed validation") from exc
        found = KeyedAnswer[GpAssignmentRecord](wanted)
        for item in answer.entries:
            try:
                entry = _SikredeEntry.model_validate(item)
            except ValidationError:
                found.fail(
                    key_of(_Named, item), self._client.invalid("a sikrede entry was left out: it failed validation")
                )
                continue
            found.record(
                entry.cpr,
                GpAssignmentRecord(entry.cpr, entry.egen_laege_ydernummer, entry.sygesikringsgruppe),
            )
        return found.answer()

    async def practices_for(self, ydernumre: Sequence[str]) -> Keyed[PracticeRecord]:
        """Each distinct ydernummer's practice and doctors (``None`` when unknown), in one request.

        Ydernumre are kept as given (no zero padding); raises ``ValueError`` for anything but 1 to 6 digits.
        """
        wanted = list(dict.fromkeys(ydernumre))
        if not wanted:
            return {}
        if not all(_YDERNUMMER.fullmatch(y) for y in wanted):
            raise ValueError("not a ydernummer")
        kept, missing = self._practices.cached(wanted)
        fetched = await self._fetch_practices(missing) if missing else {}
        for ydernummer, practice in fetched.items():
            if practice is None or (isinstance(practice, PracticeRecord) and not practice.problems):
                self._practices.keep(ydernummer, practice)
        return {y: kept[y] if y in kept else fetched[y] for y in wanted}

    async def _fetch_practices(self, wanted: list[str]) -> Keyed[PracticeRecord]:
        payload = await self._client.get_json("/fhir/Organization", {"identifier": f"{YDER_SYSTEM}|{','.join(wanted)}"})
        try:
            bundle = _Bundle.model_validate(payload)
        except ValidationError as exc:
            raise self._client.invalid("Organization search bundle failed validation") from exc
        found = KeyedAnswer[PracticeRecord](wanted)
        family = read_family(
            (
                (
                    e.resource.get("resourceType") if isinstance(e.resource, dict) else None,
                    key_of(_Identified, e.resource),
                    e.resource,
                )
                for e in bundle.entry
            ),
            ("Organization", _organization),
            ("PractitionerRole", lambda r: _doctor(_PractitionerRole.model_validate(r).practitioner)),
            lambda key: found.fail(key, self._client.invalid("a practice was left out: it failed validation")),
        )
        for ydernummer, organization in family.heads.items():
            lost = family.lost_of(ydernummer)
            problems = (self._client.invalid("a doctor was left out: it failed validation"),) if lost else ()
            found.record(ydernummer, _practice(ydernummer, organization, family.members.get(ydernummer, []), problems))
        return found.answer()


def _organization(resource: object) -> _Organization:
    organization = _Organization.model_validate(resource)
    if not organization.name.strip():
        raise ShapeError("a practice without a name")
    return organization


def _doctor(practitioner: Reference) -> DoctorRecord:
    if not practitioner.display:
        raise ShapeError("PractitionerRole practitioner has no display name")
    identifier = practitioner.identifier
    return DoctorRecord(
        name=practitioner.display,
        authorization_id=identifier.normalised(IdentifierKind.AUTHORIZATION_ID) if identifier is not None else None,
    )


def _practice(
    ydernummer: str, organization: _Organization, doctors: list[DoctorRecord], problems: tuple[SourceError, ...]
) -> PracticeRecord:
    sor = identifier_of(organization.identifier, IdentifierKind.SOR)
    phone = next((t.value for t in organization.telecom if t.system == "phone" and t.value), None)
    address: AddressRecord | None = None
    if organization.address:
        first = organization.address[0]
        address = AddressRecord(
            line=", ".join(first.line),
            postal_code=first.postal_code or None,
            city=first.city or None,
            municipality_code=first.district,
        )
    return PracticeRecord(
        ydernummer=ydernummer,
        sor=sor,
        name=organization.name,
        address=address,
        phone=phone,
        doctors=tuple(doctors),
        problems=problems,
    )
