"""Simulated DDS (Dokumentdelingsservice) over IHE MHD, holding MedCom APD-DK 2.0.1 appointment documents.

``create_app(population)`` serves the appointments whose ``endpoints`` include ``"dds"``. Each yields
``version`` documents: versions ``1..version-1`` are ``superseded`` and replaced by the next (the
newer entry has ``relatesTo`` ``replaces`` → the older), version ``i+1`` starting at
``earlier_starts[i]`` with the current duration; a ``deprecated`` appointment's newest document is
``superseded`` with no successor (withdrawn). Document IDs are deterministic: :func:`document_id`.
Routes (``docs/sources/appointments.md``)::

    GET /fhir/DocumentReference?patient.identifier=urn:oid:1.2.208.176.1.2|<cpr>,<cpr>   (ITI-67)
        [&type=http://loinc.org|39289-4][&format=urn:ad:dk:medcom:apd-v2.0.1:full]
        [&status=current[,superseded][,entered-in-error]]        default current
        [&period=ge<YYYY-MM-DD>][&period=lt<YYYY-MM-DD>]         local start date, half-open
        [&author.identifier:not=urn:oid:1.2.208.176.1.1|<sor>]... repeated = AND, exact SOR
        [&_lastUpdated=ge<instant>|gt<instant>]                  entries of appointments changed since
    GET /fhir/Binary/<document id>                                 (ITI-68) application/xml

Any other index parameter is ``400`` (OperationOutcome); an unknown document is ``404``. Every entry of
an appointment shows when the appointment last changed as ``meta.lastUpdated`` (a new version
supersedes the entry before it). ``POST /_sandbox/appointments`` changes appointments
(:mod:`sandbox.changes`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.appointments import (
    APPOINTMENT_CODES,
    CPR_SYSTEM,
    SOR_SYSTEM,
    URI_SYSTEM,
    BadRequest,
    all_day_bounds,
    fhir,
    home_address,
    is_null_reason,
    local,
    organisation_address,
    organisation_kind,
    organisation_name,
    outcome,
    parse_bound,
    parse_cprs,
    parse_sor,
)
from sandbox.changes import any_time, change_routes, instant, last_updated, updated_filter
from sandbox.clinical import Appointment
from sandbox.population import Population

APD_FORMAT = "urn:ad:dk:medcom:apd-v2.0.1:full"
FORMAT_SYSTEM = "urn:oid:1.2.208.184.100.10"
LOINC = "http://loinc.org"
APD_LOINC = "39289-4"
_NAMESPACE = uuid.UUID("5f0c6a52-4a7e-4f57-9a57-8f3c1d0b6a11")
_STATUSES = {"current", "superseded", "entered-in-error"}


def document_id(appointment_id: str, version: int) -> str:
    """The deterministic ID of version ``version`` of ``appointment_id``'s APD document."""
    return str(uuid.uuid5(_NAMESPACE, f"{appointment_id}/{version}"))


@dataclass(frozen=True)
class Document:
    """One version of one appointment's APD document."""

    appointment: Appointment
    version: int
    start: datetime
    end: datetime | None
    status: str

    @property
    def id(self) -> str:
        return document_id(self.appointment.id, self.version)

    @property
    def created(self) -> datetime:
        return local(self.appointment.start) - timedelta(days=60) + timedelta(days=self.version)


def documents(population: Population) -> Iterator[Document]:
    """Every APD document DDS holds, oldest version first per appointment."""
    for appointment in population.clinical.appointments:
        if "dds" not in appointment.endpoints:
            continue
        # Elapsed time, in UTC: two datetimes of one ZoneInfo subtract by wall clock (02:15+01:00 - 02:30+02:00).
        duration = _utc(appointment.end) - _utc(appointment.start) if appointment.end is not None else None
        for version in range(1, appointment.version + 1):
            newest = version == appointment.version
            start = appointment.start
            if not newest and version - 1 < len(appointment.earlier_starts):
                start = appointment.earlier_starts[version - 1]
            end = _utc(start) + duration if duration is not None else None
            state = "superseded" if not newest or appointment.deprecated else "current"
            yield Document(appointment, version, start, end, state)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def create_app(population: Population) -> Starlette:
    """The DDS index and repository over ``population.clinical.appointments``."""

    async def index(request: Request) -> JSONResponse:
        try:
            match = _index_filter(request.query_params.multi_items())
        except BadRequest as exc:
            return outcome(400, "invalid", str(exc))
        entries = [
            {"fullUrl": f"{request.base_url}fhir/DocumentReference/{d.id}", "resource": _reference(population, d)}
            for d in documents(population)
            if match(d)
        ]
        return fhir({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})

    async def binary(request: Request) -> Response:
        wanted = request.path_params["id"]
        document = next((d for d in documents(population) if d.id == wanted), None)
        if document is None:
            return outcome(404, "not-found", "no such document")
        return Response(render_apd(population, document), media_type="application/xml")

    return Starlette(
        routes=[
            Route("/fhir/DocumentReference", index, methods=["GET"]),
            Route("/fhir/Binary/{id}", binary, methods=["GET"]),
            *change_routes(population, "dds"),
        ]
    )


def _index_filter(items: list[tuple[str, str]]) -> Callable[[Document], bool]:
    identifiers = [value for key, value in items if key == "patient.identifier"]
    if len(identifiers) != 1:
        raise BadRequest("exactly one patient.identifier is required")
    cprs = parse_cprs(identifiers[0])
    statuses = {"current"}
    start: date | None = None
    end: date | None = None
    excluded: set[str] = set()
    apd = True
    changed: Callable[[Appointment], bool] = any_time
    for key, value in items:
        if key == "patient.identifier":
            continue
        if key == "type":
            apd = apd and value in (f"{LOINC}|{APD_LOINC}", APD_LOINC)
        elif key == "format":
            apd = apd and value in (APD_FORMAT, f"{FORMAT_SYSTEM}|{APD_FORMAT}")
        elif key == "status":
            statuses = set(value.split(","))
            if not statuses <= _STATUSES:
                raise BadRequest("status must list document statuses")
        elif key == "period":
            start, end = parse_bound(value, start, end)
        elif key == "author.identifier:not":
            excluded.add(parse_sor(value))
        elif key == "_lastUpdated":
            try:
                changed = updated_filter(value)
            except ValueError as exc:
                raise BadRequest(str(exc)) from exc
        else:
            raise BadRequest("unsupported search parameter")

    def match(document: Document) -> bool:
        day = local(document.start).date()
        return (
            apd
            and document.appointment.cpr in cprs
            and document.status in statuses
            and (start is None or start <= day)
            and (end is None or day < end)
            and document.appointment.organisation_sor not in excluded
            and changed(document.appointment)
        )

    return match


def _instant(moment: datetime) -> str:
    return local(moment).isoformat()


def _reference(population: Population, document: Document) -> dict[str, Any]:
    """``document`` as an MHD ``DocumentReference``."""
    appointment = document.appointment
    sor = appointment.organisation_sor
    if appointment.all_day:
        first, last = all_day_bounds(document.start, document.end)
        period = {"start": first.isoformat(), "end": last.isoformat()}
    else:
        period = {"start": _instant(document.start)}
        if document.end is not None:
            period["end"] = _instant(document.end)
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": document.id,
        "meta": {"lastUpdated": instant(last_updated(appointment))},
        "masterIdentifier": {"system": URI_SYSTEM, "value": f"urn:uuid:{document.id}"},
        "status": document.status,
        "type": {"coding": [{"system": LOINC, "code": APD_LOINC, "display": "Aftale"}]},
        "category": [
            {"coding": [{"system": "urn:oid:1.2.208.184.100.9", "code": "001", "display": "Klinisk rapport"}]}
        ],
        "subject": {"identifier": {"system": CPR_SYSTEM, "value": appointment.cpr}},
        "date": _instant(document.created),
        "author": [{"identifier": {"system": SOR_SYSTEM, "value": sor}, "display": organisation_name(population, sor)}],
        "content": [
            {
                "attachment": {
                    "contentType": "application/xml",
                    "language": "da-DK",
                    "url": f"/fhir/Binary/{document.id}",
                },
                "format": {"system": FORMAT_SYSTEM, "code": APD_FORMAT},
            }
        ],
        "context": {"period": period},
    }
    if document.version > 1:
        previous = document_id(appointment.id, document.version - 1)
        resource["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{previous}"}}]
    return resource


def _e(text: str) -> str:
    return escape(text, quote=True)


def _ts(moment: datetime) -> str:
    return local(moment).strftime("%Y%m%d%H%M%S%z")


def _addr(address: str | None, use: str) -> str:
    """``"<street>, <postal code> <city>"`` as a CDA ``addr``."""
    if not address:
        return '<addr nullFlavor="NI"/>'
    parts = address.split(", ")
    postal, _, city = parts[-1].partition(" ")
    lines, town = (parts[:-1], f"<postalCode>{_e(postal)}</postalCode><city>{_e(city)}</city>")
    if not (postal.isdigit() and len(postal) == 4):
        lines, town = parts, ""
    streets = "".join(f"<streetAddressLine>{_e(line)}</streetAddressLine>" for line in lines)
    return f'<addr use="{use}">{streets}{town}</addr>'


def _telecom(phone: str | None) -> str:
    return f'<telecom value="tel:{_e(phone)}" use="WP"/>' if phone else '<telecom nullFlavor="NI"/>'


def _sor_id(sor: str) -> str:
    return f'<id root="1.2.208.176.1.1" extension="{_e(sor)}" assigningAuthorityName="SOR"/>'


def _top(population: Population, sor: str) -> str:
    organisations = population.clinical.organisations
    while sor in organisations and organisations[sor].part_of:
        sor = organisations[sor].part_of or sor
    return sor


def _patient(population: Population, cpr: str) -> str:
    person = population.persons.get(cpr)
    if person is None:
        return f'<id root="1.2.208.176.1.2" extension="{cpr}" assigningAuthorityName="CPR"/><addr nullFlavor="NI"/>'
    practice = population.practices.get(person.ydernummer or "")
    provider = (
        f"<providerOrganization>{_sor_id(practice.sor)}<name>{_e(practice.name)}</name>{_telecom(practice.phone)}"
        f"{_addr(f'{practice.address.line}, {practice.address.postal_code} {practice.address.city}', 'WP')}"
        "</providerOrganization>"
        if practice is not None
        else '<providerOrganization><name nullFlavor="NI"/><telecom nullFlavor="NI"/><addr nullFlavor="NI"/>'
        "</providerOrganization>"
    )
    home = f"{person.address.line}, {person.address.postal_code} {person.address.city}"
    given = "".join(f"<given>{_e(name)}</given>" for name in person.given_name.split())
    return (
        f'<id root="1.2.208.176.1.2" extension="{cpr}" assigningAuthorityName="CPR"/>{_addr(home, "H")}'
        '<telecom nullFlavor="NI"/><patient classCode="PSN" determinerCode="INSTANCE">'
        f"<name>{given}<family>{_e(person.family_name)}</family></name>"
        f'<administrativeGenderCode code="{"M" if person.male else "F"}" codeSystem="2.16.840.1.113883.5.1"/>'
        f'<birthTime value="{person.birth_date.strftime("%Y%m%d")}000000+0000"/></patient>{provider}'
    )


def _interval(document: Document) -> tuple[str, str, str]:
    """``low`` and ``high`` elements (date-only for an all-day appointment) and the narrative date text."""
    if document.appointment.all_day:
        first, last = all_day_bounds(document.start, document.end)
        text = first.isoformat() if first == last else f"{first.isoformat()} - {last.isoformat()}"
        return f'<low value="{first:%Y%m%d}"/>', f'<high value="{last:%Y%m%d}"/>', text
    start = local(document.start)
    low, text = f'<low value="{_ts(start)}"/>', f"{start:%Y-%m-%d %H:%M} - "
    if document.end is None:
        return low, '<high nullFlavor="NI"/>', text
    return low, f'<high value="{_ts(document.end)}"/>', text + f"{local(document.end):%Y-%m-%d %H:%M}"


def _reason(appointment: Appointment) -> str:
    display = _e(appointment.reason_display)
    if is_null_reason(appointment):
        return f'<code code="NI" displayName="{display}"/>'
    system = appointment.reason_system
    oid = "2.16.840.1.113883.6.96" if system == "http://snomed.info/sct" else system.removeprefix("urn:oid:")
    return f'<code code="{_e(appointment.reason_code)}" codeSystem="{_e(oid)}" displayName="{display}"/>'


def _participant(population: Population, appointment: Appointment) -> tuple[str, str]:
    """The encounter's ``participant`` (LOC or the citizen's home as SBJ) and the narrative meeting place."""
    role = '<participantRole classCode="SDLOC"><templateId root="1.2.208.184.14.11.3" extension="2019-09-10"/>'
    if appointment.at_home:
        home = home_address(population, appointment.cpr)
        place = "Borgers Hjemmeadresse"
        return (
            f'<participant typeCode="SBJ">{role}{_addr(home, "H")}<telecom nullFlavor="NI"/>'
            f'<playingEntity classCode="PLC"><name>{place}</name></playingEntity></participantRole></participant>',
            f"{home}, {place}" if home else place,
        )
    sor = appointment.location_sor or appointment.organisation_sor
    name, address = organisation_name(population, sor), organisation_address(population, sor)
    phone = population.clinical.organisations[sor].phone if sor in population.clinical.organisations else None
    room = appointment.room or name
    return (
        f'<participant typeCode="LOC">{role}{_sor_id(sor)}{_addr(address, "WP")}{_telecom(phone)}'
        f'<playingEntity classCode="PLC"><name>{_e(room)}</name></playingEntity></participantRole></participant>',
        ", ".join(p for p in (name, address, appointment.room) if p),
    )


def render_apd(population: Population, document: Document) -> bytes:
    """``document`` as a MedCom APD-DK 2.0.1 CDA document."""
    appointment = document.appointment
    sor = appointment.organisation_sor
    name, address = _e(organisation_name(population, sor)), organisation_address(population, sor)
    phone = population.clinical.organisations[sor].phone if sor in population.clinical.organisations else None
    custodian = _top(population, sor)
    code = appointment.sector_label or APPOINTMENT_CODES.get(
        organisation_kind(population, sor) or "", "RegionalAppointment"
    )
    low, high, when = _interval(document)
    participant, place = _participant(population, appointment)
    note = appointment.time_note
    subject = appointment.title or appointment.reason_display
    precondition = (
        '<precondition><templateId root="1.2.208.184.14.11.5" extension="2019-09-10"/><criterion>'
        '<code code="GuidedIntervalType" codeSystem="1.2.208.184.100.1" codeSystemName="MedCom Message Codes"/>'
        f"<text>{_e(note)}</text></criterion></precondition>"
        if note
        else ""
    )
    created = _ts(document.created)
    set_id = uuid.uuid5(_NAMESPACE, f"{appointment.id}/set")
    status = "cancelled" if appointment.status == "cancelled" else "active"
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" classCode="DOCCLIN" moodCode="EVN">
  <realmCode code="DK"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="1.2.208.184.14.1" extension="2019-09-10"/>
  <id root="1.2.208.184" extension="{document.id}" assigningAuthorityName="MedCom"/>
  <code code="39289-4" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC" displayName="Dato og tidspunkt for møde mellem patient og sundhedsperson"/>
  <title>Aftale for {appointment.cpr}</title>
  <effectiveTime value="{created}"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="da-DK"/>
  <setId root="1.2.208.184" extension="{set_id}" assigningAuthorityName="MedCom"/>
  <versionNumber value="{document.version}"/>
  <recordTarget typeCode="RCT" contextControlCode="OP"><patientRole classCode="PAT">{_patient(population, appointment.cpr)}</patientRole></recordTarget>
  <author typeCode="AUT" contextControlCode="OP"><time value="{created}"/><assignedAuthor classCode="ASSIGNED">{_sor_id(sor)}{_addr(address, "WP")}{_telecom(phone)}<representedOrganization classCode="ORG" determinerCode="INSTANCE">{_sor_id(sor)}<name>{name}</name></representedOrganization></assignedAuthor></author>
  <custodian typeCode="CST"><assignedCustodian classCode="ASSIGNED"><representedCustodianOrganization classCode="ORG" determinerCode="INSTANCE">{_sor_id(custodian)}<name>{_e(organisation_name(population, custodian))}</name></representedCustodianOrganization></assignedCustodian></custodian>
  <documentationOf typeCode="DOC"><serviceEvent classCode="MPROT" moodCode="EVN"><templateId root="1.2.208.184.10.1.11"/><effectiveTime>{low}{high}</effectiveTime></serviceEvent></documentationOf>
  <documentationOf typeCode="DOC"><serviceEvent classCode="MPROT" moodCode="EVN"><templateId root="1.2.208.184.10.1.10"/><id root="1.2.208.184.100.10" extension="apd-v2.0.1" assigningAuthorityName="MedCom"/></serviceEvent></documentationOf>
  <component><structuredBody><component>
    <section classCode="DOCSECT" moodCode="EVN">
      <templateId root="1.2.208.184.14.11.1" extension="2019-09-10"/>
      <code code="18776-5" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"/>
      <title>Aftale</title>
      <text><paragraph>Aftale:</paragraph><table width="100%"><tbody>
        <tr><th>Aftale dato</th><th>Vedrørende</th><th>Udførende organisation</th><th>Mødested</th><th>Kommentar</th></tr>
        <tr><td>{_e(when)}</td><td>{_e(subject)}</td><td>{name}</td><td>{_e(place)}</td><td>{_e(note or "")}</td></tr>
      </tbody></table></text>
      <entry>
        <encounter moodCode="APT" classCode="ENC">
          <templateId root="1.2.208.184.14.11.2" extension="2019-09-10"/>
          <id root="1.2.208.184" extension="{_e(appointment.id)}" assigningAuthorityName="MedCom"/>
          <code code="{code}" codeSystem="1.2.208.184.100.1" codeSystemName="MedCom Message Codes"/>
          <statusCode code="{status}"/>
          <effectiveTime>{low}{high}</effectiveTime>
          <performer typeCode="PRF"><assignedEntity classCode="ASSIGNED">{_sor_id(sor)}{_addr(address, "WP")}{_telecom(phone)}<representedOrganization classCode="ORG" determinerCode="INSTANCE"><name>{name}</name></representedOrganization></assignedEntity></performer>
          {participant}
          <entryRelationship typeCode="RSON"><observation classCode="OBS" moodCode="EVN">{_reason(appointment)}</observation></entryRelationship>
          {precondition}
        </encounter>
      </entry>
    </section>
  </component></structuredBody></component>
</ClinicalDocument>
"""  # noqa: E501 - the document reads best one element a line
    return xml.encode("utf-8")
