"""Appointments (aftaler) from a FHIR R4 ``Appointment`` search endpoint (a region, a municipality, a GP system).

One search per endpoint for many patients: the CPR list, the date window (on the local start date),
``status:not=cancelled`` and every excluded organisation are pushed down to the upstream, and the
answer is filtered again on the way out, so an upstream that ignores a parameter still never shows
an excluded organisation's item, an item outside the window or an unwanted cancelled one. Paging
follows ``link[relation=next]`` on the same origin, at most 20 pages. Wire format:
``docs/sources/appointments.md``.

Paging and link checks live in :mod:`sources.fhir_search`; :func:`keep`, the way-out check, is shared
with the DDS adapter (``sources/dds.py``).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BeforeValidator, Field, StrictBool, ValidationError

from sources.base import SourceClient
from sources.clinical import (
    AppointmentRecord,
    AppointmentsAnswer,
    AppointmentStatus,
    ClinicalSearch,
    CodingRecord,
    Endpoint,
    LocationRecord,
    OrganisationKind,
    OrganisationRef,
)
from sources.fhir_search import search_resources, window_pairs
from sources.identifiers import CPR_PATTERN, distinct_cprs
from sources.payloads import COPENHAGEN, CPR_SYSTEM, SOR_SYSTEM, FhirModel

URI_SYSTEM = "urn:ietf:rfc:3986"
MEDCOM_MESSAGE_CODES = "urn:oid:1.2.208.184.100.1"
NULL_FLAVOR_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ALL_DAY_URL = "http://patientoverblik.dk/fhir/StructureDefinition/all-day"
INDICATIVE_TIME_URL = "http://patientoverblik.dk/fhir/StructureDefinition/indicative-time"

KIND_BY_CODE = {
    "RegionalAppointment": OrganisationKind.REGION,
    "MunicipalityAppointment": OrganisationKind.MUNICIPALITY,
    "PractitionerAppointment": OrganisationKind.GP,
}
"""MedCom message codes (``1.2.208.184.100.1``) naming an appointment's sector."""

PAGE_SIZE = 50

_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})")


def _instant(value: object) -> object:
    if not isinstance(value, str) or not _INSTANT.fullmatch(value):
        raise ValueError("expected a FHIR instant with an offset")
    return value


FhirInstant = Annotated[AwareDatetime, BeforeValidator(_instant)]


class _Identifier(FhirModel):
    system: str | None = None
    value: str = Field(min_length=1)


class _Coding(FhirModel):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class _Concept(FhirModel):
    coding: list[_Coding] = Field(default_factory=list)
    text: str | None = None


class _Reference(FhirModel):
    reference: str | None = None
    type: str | None = None
    identifier: _Identifier | None = None
    display: str | None = None


class _Extension(FhirModel):
    url: str
    value_boolean: StrictBool | None = None
    value_string: str | None = None


class _Participant(FhirModel):
    actor: _Reference | None = None


class _Address(FhirModel):
    text: str | None = None


class _Location(FhirModel):
    resource_type: Literal["Location"]
    id: str | None = None
    identifier: list[_Identifier] = Field(default_factory=list)
    name: str | None = None
    description: str | None = None
    address: _Address | None = None
    type: list[_Concept] = Field(default_factory=list)


class _Meta(FhirModel):
    version_id: str | None = None
    last_updated: FhirInstant | None = None


class _Appointment(FhirModel):
    resource_type: Literal["Appointment"]
    id: str | None = None
    meta: _Meta | None = None
    identifier: list[_Identifier] = Field(default_factory=list)
    status: AppointmentStatus
    start: FhirInstant
    end: FhirInstant | None = None
    extension: list[_Extension] = Field(default_factory=list)
    appointment_type: _Concept | None = None
    reason_code: list[_Concept] = Field(default_factory=list)
    description: str | None = None
    participant: list[_Participant] = Field(min_length=1)
    contained: list[dict[str, Any]] = Field(default_factory=list)


class FhirAppointmentSource:
    """One FHIR ``Appointment`` endpoint: the patients' appointments in one (paged) search."""

    def __init__(self, client: SourceClient, endpoint: Endpoint) -> None:
        self._client = client
        self.endpoint = endpoint

    async def appointments_for(self, search: ClinicalSearch) -> AppointmentsAnswer:
        """Each asked CPR's appointments (``[]`` when none), start-ordered."""
        wanted = distinct_cprs(search.cprs)
        result: dict[str, list[AppointmentRecord]] = {cpr: [] for cpr in wanted}
        if not wanted or search.window.empty:
            return AppointmentsAnswer(result)
        pairs = [("patient.identifier", f"{CPR_SYSTEM}|{','.join(wanted)}"), *window_pairs("date", search.window)]
        if not search.include_cancelled:
            pairs.append(("status:not", "cancelled"))
        pairs += [("performer-organization:not", f"{SOR_SYSTEM}|{sor}") for sor in sorted(search.exclude_organisations)]
        pairs.append(("_count", str(PAGE_SIZE)))
        resources = await search_resources(self._client, "/fhir/Appointment", pairs)
        try:
            appointments = [_Appointment.model_validate(r) for r in resources if r.get("resourceType") == "Appointment"]
        except ValidationError as exc:
            raise self._client.invalid("appointment failed validation") from exc
        for appointment in appointments:
            record = self._record(appointment)
            if record.cpr in result and keep(record, search):
                result[record.cpr].append(record)
        for records in result.values():
            records.sort(key=lambda r: (r.start, r.id))
        return AppointmentsAnswer(result)

    def _record(self, appointment: _Appointment) -> AppointmentRecord:
        actors = [p.actor for p in appointment.participant if p.actor is not None]
        cprs = [a.identifier.value for a in actors if a.identifier is not None and a.identifier.system == CPR_SYSTEM]
        if len(cprs) != 1 or not CPR_PATTERN.fullmatch(cprs[0]):
            raise self._client.invalid("appointment without exactly one CPR participant")
        service = next((a for a in actors if a.type == "HealthcareService"), None)
        if service is None or service.identifier is None or service.identifier.system != SOR_SYSTEM:
            raise self._client.invalid("appointment without a SOR-coded performing organisation")
        if not service.display:
            raise self._client.invalid("performing organisation without a name")
        start = appointment.start.astimezone(COPENHAGEN)
        all_day = any(e.url == ALL_DAY_URL and e.value_boolean is True for e in appointment.extension)
        if all_day:
            start = datetime.combine(start.date(), time(), COPENHAGEN)
        end = appointment.end.astimezone(COPENHAGEN) if appointment.end is not None else None
        if end is not None and end < start:
            raise self._client.invalid("appointment ends before it starts")
        note = next((e.value_string for e in appointment.extension if e.url == INDICATIVE_TIME_URL), None)
        meta = appointment.meta or _Meta()
        return AppointmentRecord(
            id=self._stable_id(appointment),
            cpr=cprs[0],
            source=self.endpoint.name,
            organisation=OrganisationRef(service.identifier.value, service.display, self._kind(appointment)),
            status=appointment.status,
            start=start,
            end=end,
            all_day=all_day,
            indicative=note is not None,
            time_note=note,
            location=self._location(appointment, actors),
            reason=_reason(appointment.reason_code[0]) if appointment.reason_code else None,
            title=appointment.description,
            version=int(meta.version_id) if meta.version_id and meta.version_id.isdigit() else 1,
            updated=meta.last_updated.astimezone(COPENHAGEN) if meta.last_updated else None,
        )

    def _stable_id(self, appointment: _Appointment) -> str:
        for identifier in appointment.identifier:
            if identifier.system == URI_SYSTEM and identifier.value.startswith("urn:uuid:"):
                try:
                    return str(uuid.UUID(identifier.value.removeprefix("urn:uuid:")))
                except ValueError as exc:
                    raise self._client.invalid("appointment identifier is not a UUID") from exc
        if appointment.id:
            return appointment.id
        raise self._client.invalid("appointment without an identifier")

    def _kind(self, appointment: _Appointment) -> OrganisationKind | None:
        codings = appointment.appointment_type.coding if appointment.appointment_type else []
        for coding in codings:
            if coding.system == MEDCOM_MESSAGE_CODES and coding.code in KIND_BY_CODE:
                return KIND_BY_CODE[coding.code]
        return self.endpoint.kind

    def _location(self, appointment: _Appointment, actors: list[_Reference]) -> LocationRecord | None:
        actor = next((a for a in actors if a.type == "Location"), None)
        if actor is None:
            return None
        contained = next(
            (c for c in appointment.contained if actor.reference and c.get("id") == actor.reference.removeprefix("#")),
            None,
        )
        if contained is None:
            sor = actor.identifier.value if actor.identifier and actor.identifier.system == SOR_SYSTEM else None
            return LocationRecord(name=actor.display, sor=sor)
        try:
            location = _Location.model_validate(contained)
        except ValidationError as exc:
            raise self._client.invalid("appointment location failed validation") from exc
        at_home = any(c.system == ROLE_CODE_SYSTEM and c.code == "PTRES" for t in location.type for c in t.coding)
        return LocationRecord(
            name=location.name or actor.display,
            sor=next((i.value for i in location.identifier if i.system == SOR_SYSTEM), None),
            address=location.address.text if location.address else None,
            room=location.description,
            at_home=at_home,
        )


def _reason(concept: _Concept) -> CodingRecord | None:
    coding = next((c for c in concept.coding if c.code), None)
    if coding is None:
        return CodingRecord(NULL_FLAVOR_SYSTEM, "NI", concept.text) if concept.text else None
    assert coding.code is not None
    return CodingRecord(coding.system or "", coding.code, coding.display or concept.text)


def keep(record: AppointmentRecord, search: ClinicalSearch) -> bool:
    """Whether ``record`` belongs in the answer to ``search`` (organisation, status and local start date)."""
    if record.organisation.sor is not None and record.organisation.sor in search.exclude_organisations:
        return False
    if not search.include_cancelled and record.status is AppointmentStatus.CANCELLED:
        return False
    return search.window.contains(record.start.astimezone(COPENHAGEN).date())
