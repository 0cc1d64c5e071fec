"""Appointments (aftaler) from a FHIR R4 ``Appointment`` search endpoint (a region, a municipality, a GP system).

One search per endpoint for many patients: the CPR list, the date window (on the local start date),
``status:not=cancelled`` and every excluded organisation are pushed down to the upstream, and the
answer is filtered again on the way out, so an upstream that ignores a parameter still never shows
an excluded organisation's item, an item outside the window or an unwanted cancelled one. Paging and
link checks live in :mod:`sources.fhir_search`; :func:`keep`, the way-out check, is shared with the
DDS adapter (``sources/dds.py``). Wire format: ``docs/sources/appointments.md``.

Per item, never for the whole answer: an appointment that fails validation, ends before it starts
(compared as instants), has no SOR-coded performer, or whose subject cannot be resolved to exactly
one CPR number is left out and named in the answer's problems. Only participants whose actor is a
``Patient`` identify the subject: by a CPR identifier on the reference, or through the ``Patient``
resource it points at, contained (``#p1``) or included in the search bundle
(``_include=Appointment:patient``); a ``RelatedPerson`` or any other participant never does.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field, ValidationError

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
    Problem,
)
from sources.datatypes import (
    CodeableConcept,
    Extension,
    Identifier,
    Instant,
    Meta,
    Reference,
    identifier_of,
    local_date,
    local_midnight,
    patient_cpr,
    resolve,
)
from sources.fhir_search import SearchAnswer, changed_pairs, excluded_pairs, search_resources, window_pairs
from sources.identifiers import IdentifierKind, distinct_cprs
from sources.payloads import CPR_SYSTEM, FhirModel, ShapeError

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


class _Participant(FhirModel):
    actor: Reference | None = None


class _Address(FhirModel):
    text: str | None = None


class _Location(FhirModel):
    resource_type: Literal["Location"]
    id: str | None = None
    identifier: list[Identifier] = Field(default_factory=list)
    name: str | None = None
    description: str | None = None
    address: _Address | None = None
    type: list[CodeableConcept] = Field(default_factory=list)


class _Appointment(FhirModel):
    resource_type: Literal["Appointment"]
    id: str | None = None
    meta: Meta | None = None
    identifier: list[Identifier] = Field(default_factory=list)
    status: AppointmentStatus
    start: Instant
    end: Instant | None = None
    extension: list[Extension] = Field(default_factory=list)
    appointment_type: CodeableConcept | None = None
    reason_code: list[CodeableConcept] = Field(default_factory=list)
    description: str | None = None
    participant: list[_Participant] = Field(min_length=1)
    contained: list[dict[str, Any]] = Field(default_factory=list)


class FhirAppointmentSource:
    """One FHIR ``Appointment`` endpoint: the patients' appointments in one (paged) search."""

    def __init__(self, client: SourceClient, endpoint: Endpoint) -> None:
        self._client = client
        self.endpoint = endpoint

    async def appointments_for(self, search: ClinicalSearch) -> AppointmentsAnswer:
        """Each asked CPR's appointments (``[]`` when none), start-ordered, and what the answer lacks."""
        wanted = distinct_cprs(search.cprs)
        result: dict[str, list[AppointmentRecord]] = {cpr: [] for cpr in wanted}
        if not wanted or search.window.empty:
            return AppointmentsAnswer(result)
        pairs = [("patient.identifier", f"{CPR_SYSTEM}|{','.join(wanted)}"), *window_pairs("date", search.window)]
        if not search.include_cancelled:
            pairs.append(("status:not", "cancelled"))
        pairs += excluded_pairs("performer-organization:not", search.exclude_organisations)
        pairs += changed_pairs(search.changed_since)
        pairs += [("_include", "Appointment:patient"), ("_count", str(PAGE_SIZE))]
        found = await search_resources(self._client, "/fhir/Appointment", pairs, max_pages=self.endpoint.max_pages)
        problems = [Problem(error) for error in found.problems]
        problems += [Problem(self._client.invalid("a search entry was not a resource"))] * found.unreadable
        for resource in found.resources:
            if resource.get("resourceType") != "Appointment":
                continue
            try:
                record = self._record(_Appointment.model_validate(resource), found)
            except (ValidationError, ShapeError) as exc:
                problems.append(Problem(self._client.invalid(f"an appointment was left out: {_reason_of(exc)}")))
                continue
            if record.cpr not in result:
                problems.append(Problem(self._client.invalid("an appointment names a patient not asked for")))
            elif keep(record, search):
                result[record.cpr].append(record)
        for records in result.values():
            records.sort(key=lambda r: (r.start, r.id))
        return AppointmentsAnswer(result, tuple(problems))

    def _record(self, appointment: _Appointment, found: SearchAnswer) -> AppointmentRecord:
        actors = [p.actor for p in appointment.participant if p.actor is not None]
        cpr = _subject(appointment, actors, found)
        service = next((a for a in actors if a.target_type == "HealthcareService"), None)
        sor = service.identifier.normalised(IdentifierKind.SOR) if service and service.identifier else None
        if service is None or sor is None:
            raise ShapeError("no SOR-coded performing organisation")
        if not service.display:
            raise ShapeError("performing organisation without a name")
        start = appointment.start
        all_day = any(e.url == ALL_DAY_URL and e.value_boolean is True for e in appointment.extension)
        if all_day:
            try:
                start = local_midnight(local_date(start))
            except ValueError:
                raise ShapeError("an all-day appointment on a day beyond the calendar") from None
        end = appointment.end
        if end is not None and end < start:
            raise ShapeError("it ends before it starts")
        note = next((e.value_string for e in appointment.extension if e.url == INDICATIVE_TIME_URL), None)
        meta = appointment.meta or Meta()
        return AppointmentRecord(
            id=_stable_id(appointment),
            cpr=cpr,
            source=self.endpoint.name,
            organisation=OrganisationRef(sor, service.display, self._kind(appointment)),
            status=appointment.status,
            start=start,
            end=end,
            all_day=all_day,
            indicative=note is not None,
            time_note=note,
            location=_location(appointment, actors),
            reason=_reason(appointment.reason_code[0]) if appointment.reason_code else None,
            title=appointment.description,
            version=int(meta.version_id) if meta.version_id and meta.version_id.isdigit() else 1,
            updated=meta.last_updated,
        )

    def _kind(self, appointment: _Appointment) -> OrganisationKind | None:
        codings = appointment.appointment_type.coding if appointment.appointment_type else []
        for coding in codings:
            code = (coding.code or "").strip()
            if coding.system == MEDCOM_MESSAGE_CODES and code in KIND_BY_CODE:
                return KIND_BY_CODE[code]
        return self.endpoint.kind


def _reason_of(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ShapeError) else "it failed validation"


def _subject(appointment: _Appointment, actors: list[Reference], found: SearchAnswer) -> str:
    """The CPR number of the appointment's patient: only ``Patient`` actors count, resolved where needed."""
    cprs: set[str | None] = set()
    for actor in actors:
        kind, target = resolve(actor, appointment.contained, found.included, found.base)
        if kind == "Patient":
            cprs.add(patient_cpr(actor, target))
    if not cprs:
        raise ShapeError("no Patient participant")
    if None in cprs:
        raise ShapeError("the Patient participant cannot be resolved to a CPR number")
    if len(cprs) != 1:
        raise ShapeError("more than one patient")
    cpr = cprs.pop()
    assert cpr is not None
    return cpr


def _stable_id(appointment: _Appointment) -> str:
    for identifier in appointment.identifier:
        if identifier.system == URI_SYSTEM and identifier.value.startswith("urn:uuid:"):
            try:
                return str(uuid.UUID(identifier.value.removeprefix("urn:uuid:")))
            except ValueError:
                raise ShapeError("identifier is not a UUID") from None
    if appointment.id:
        return appointment.id
    raise ShapeError("no identifier")


def _location(appointment: _Appointment, actors: list[Reference]) -> LocationRecord | None:
    actor = next((a for a in actors if a.target_type == "Location"), None)
    if actor is None:
        return None
    _, contained = resolve(actor, appointment.contained, {})
    if contained is None:
        sor = actor.identifier.normalised(IdentifierKind.SOR) if actor.identifier else None
        return LocationRecord(name=actor.display, sor=sor)
    try:
        location = _Location.model_validate(contained)
    except ValidationError:
        raise ShapeError("its location failed validation") from None
    at_home = any(c.system == ROLE_CODE_SYSTEM and c.code == "PTRES" for t in location.type for c in t.coding)
    return LocationRecord(
        name=location.name or actor.display,
        sor=identifier_of(location.identifier, IdentifierKind.SOR),
        address=location.address.text if location.address else None,
        room=location.description,
        at_home=at_home,
    )


def _reason(concept: CodeableConcept) -> CodingRecord | None:
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
    return search.window.contains(record.day)
