"""Simulated FHIR R4 ``Appointment`` search endpoint (a region, a municipality or the GP systems).

``create_app(population, endpoint)`` serves ``population.clinical.appointments`` whose ``endpoints``
include ``endpoint``. Route (``docs/sources/appointments.md``)::

    GET /fhir/Appointment?patient.identifier=urn:oid:1.2.208.176.1.2|<cpr>,<cpr>
        [&date=ge<YYYY-MM-DD>][&date=lt<YYYY-MM-DD>]       local start date, half-open
        [&status:not=cancelled]                             comma-separated statuses to leave out
        [&performer-organization:not=urn:oid:1.2.208.176.1.1|<sor>]...   repeated = AND, exact SOR
        [&_include=Appointment:patient]                     the Patients literal references point at
        [&_lastUpdated=ge<instant>|gt<instant>]             changed since (``sandbox/changes.py``)
        [&_count=<1..200>][&_offset=<n>]                    paging (50 a page; next link carries _offset)
    POST /_sandbox/appointments, DELETE /_sandbox/appointments/timers   change appointments (``sandbox/changes.py``)

Any other parameter, or a malformed one, is ``400`` with an ``OperationOutcome``. A ``deprecated``
appointment is served as ``cancelled``. An appointment names its patient as its
``patient_reference`` says (a CPR identifier, a literal ``Patient/<id>``, a contained ``#patient``, a
``Patient/<id>`` whose identifier names the relative instead, or another server's absolute
``https://other.example/fhir/Patient/<id>``), and a relative taking part as a ``RelatedPerson``
participant with the relative's CPR number. The
helpers here are shared with ``sandbox/dds.py``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.changes import any_time, change_routes, instant, last_updated, updated_filter
from sandbox.clinical import Appointment
from sandbox.population import Population

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
URI_SYSTEM = "urn:ietf:rfc:3986"
MEDCOM_MESSAGE_CODES = "urn:oid:1.2.208.184.100.1"
FOREIGN_BASE = "https://other.example/fhir"
"""Another server's FHIR base, for a patient reference that points away from the endpoint."""
NULL_FLAVOR_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
ALL_DAY_URL = "http://patientoverblik.dk/fhir/StructureDefinition/all-day"
INDICATIVE_TIME_URL = "http://patientoverblik.dk/fhir/StructureDefinition/indicative-time"
APPOINTMENT_CODES = {
    "region": "RegionalAppointment",
    "municipality": "MunicipalityAppointment",
    "gp": "PractitionerAppointment",
}
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

_CPR = re.compile(r"[0-9]{10}")
_SOR = re.compile(r"[0-9]{6,18}")
_DATE = re.compile(r"(ge|lt)([0-9]{4}-[0-9]{2}-[0-9]{2})")
_STATUSES = {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error"}


class BadRequest(ValueError):
    """A search the simulated endpoint refuses (answered 400)."""


@dataclass
class Search:
    """A parsed appointment search."""

    cprs: set[str]
    start: date | None = None
    end: date | None = None
    not_statuses: set[str] = field(default_factory=set)
    not_organisations: set[str] = field(default_factory=set)
    count: int = PAGE_SIZE
    offset: int = 0
    include_patients: bool = False
    changed: Callable[[Appointment], bool] = any_time
    """``_lastUpdated``: the appointments changed since an instant."""


def create_app(population: Population, endpoint: str) -> Starlette:
    """The FHIR ``Appointment`` search of one simulated endpoint."""

    async def search(request: Request) -> JSONResponse:
        try:
            query = _search(request.query_params.multi_items())
        except BadRequest as exc:
            return outcome(400, "invalid", str(exc))
        matches = sorted(
            (a for a in population.clinical.appointments if endpoint in a.endpoints and _matches(a, query)),
            key=lambda a: (a.start.astimezone(UTC), a.id),
        )
        page = matches[query.offset : query.offset + query.count]
        links = [{"relation": "self", "url": str(request.url)}]
        if query.offset + query.count < len(matches):
            following = request.url.include_query_params(_offset=query.offset + query.count, _count=query.count)
            links.append({"relation": "next", "url": str(following)})
        entries = [
            {
                "fullUrl": f"{request.base_url}fhir/Appointment/{a.id}",
                "resource": appointment_resource(population, a),
                "search": {"mode": "match"},
            }
            for a in page
        ]
        if query.include_patients:
            literal = sorted({a.cpr for a in page if a.patient_reference in ("literal", "conflicting", "foreign")})
            entries += [
                {
                    "fullUrl": f"{request.base_url}fhir/Patient/{patient_id(cpr)}",
                    "resource": patient_resource(cpr),
                    "search": {"mode": "include"},
                }
                for cpr in literal
            ]
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(matches), "link": links, "entry": entries}
        return fhir(bundle)

    return Starlette(routes=[Route("/fhir/Appointment", search, methods=["GET"]), *change_routes(population, endpoint)])


def _search(items: list[tuple[str, str]]) -> Search:
    identifiers = [value for key, value in items if key == "patient.identifier"]
    if len(identifiers) != 1:
        raise BadRequest("exactly one patient.identifier is required")
    query = Search(parse_cprs(identifiers[0]))
    for key, value in items:
        if key == "patient.identifier":
            continue
        if key == "date":
            query.start, query.end = parse_bound(value, query.start, query.end)
        elif key == "status:not":
            query.not_statuses |= set(value.split(","))
            if not query.not_statuses <= _STATUSES:
                raise BadRequest("status:not must list appointment statuses")
        elif key == "performer-organization:not":
            query.not_organisations.add(parse_sor(value))
        elif key == "_include":
            if value != "Appointment:patient":
                raise BadRequest("only _include=Appointment:patient is supported")
            query.include_patients = True
        elif key == "_lastUpdated":
            try:
                query.changed = updated_filter(value)
            except ValueError as exc:
                raise BadRequest(str(exc)) from exc
        elif key in ("_count", "_offset"):
            if not value.isdigit():
                raise BadRequest(f"{key} must be a number")
            if key == "_count":
                query.count = min(max(int(value), 1), MAX_PAGE_SIZE)
            else:
                query.offset = int(value)
        else:
            raise BadRequest("unsupported search parameter")
    return query


def parse_cprs(value: str) -> set[str]:
    """``urn:oid:1.2.208.176.1.2|<cpr>,<cpr>`` (the system optional on each) → the CPR numbers."""
    cprs = {item.removeprefix(f"{CPR_SYSTEM}|") for item in value.split(",")}
    if not value or not all(_CPR.fullmatch(cpr) for cpr in cprs):
        raise BadRequest("patient.identifier must list CPR numbers")
    return cprs


def parse_sor(value: str) -> str:
    """``urn:oid:1.2.208.176.1.1|<sor>`` (or a bare SOR code) → the SOR code."""
    sor = value.removeprefix(f"{SOR_SYSTEM}|")
    if not _SOR.fullmatch(sor):
        raise BadRequest("an organisation must be a SOR code")
    return sor


def parse_bound(value: str, start: date | None, end: date | None) -> tuple[date | None, date | None]:
    """One ``ge<date>``/``lt<date>`` search value folded into the ``[start, end)`` window."""
    match = _DATE.fullmatch(value)
    if match is None:
        raise BadRequest("a date bound must be ge<YYYY-MM-DD> or lt<YYYY-MM-DD>")
    try:
        day = date.fromisoformat(match.group(2))
    except ValueError as exc:
        raise BadRequest("a date bound must be a real date") from exc
    return (day, end) if match.group(1) == "ge" else (start, day)


def _matches(appointment: Appointment, query: Search) -> bool:
    day = local(appointment.start).date()
    return (
        appointment.cpr in query.cprs
        and (query.start is None or query.start <= day)
        and (query.end is None or day < query.end)
        and status(appointment) not in query.not_statuses
        and appointment.organisation_sor not in query.not_organisations
        and query.changed(appointment)
    )


def local(moment: datetime) -> datetime:
    """``moment`` in Danish local time (a naive datetime is taken to be local already)."""
    return moment.replace(tzinfo=COPENHAGEN) if moment.tzinfo is None else moment.astimezone(COPENHAGEN)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), COPENHAGEN)


def all_day_bounds(start: datetime, end: datetime | None) -> tuple[date, date]:
    """The first and last local day of an all-day appointment (an end at midnight closes the day before)."""
    first = local(start).date()
    if end is None:
        return first, first
    last = local(end)
    last_day = last.date() - timedelta(days=1) if last.time() == time() else last.date()
    return first, max(first, last_day)


def status(appointment: Appointment) -> str:
    return "cancelled" if appointment.deprecated else appointment.status


def organisation_name(population: Population, sor: str) -> str:
    """The name SOR gives ``sor``: a clinical organisation, else a GP practice."""
    if sor in population.clinical.organisations:
        return population.clinical.organisations[sor].name
    practice = next((p for p in population.practices.values() if p.sor == sor), None)
    return practice.name if practice is not None else "Ukendt organisation"


def organisation_kind(population: Population, sor: str) -> str | None:
    if sor in population.clinical.organisations:
        return population.clinical.organisations[sor].kind
    return "gp" if any(p.sor == sor for p in population.practices.values()) else None


def organisation_address(population: Population, sor: str) -> str | None:
    """``"<street>, <postal code> <city>"`` of an organisation or practice, when known."""
    if sor in population.clinical.organisations:
        return population.clinical.organisations[sor].address
    practice = next((p for p in population.practices.values() if p.sor == sor), None)
    if practice is None:
        return None
    return f"{practice.address.line}, {practice.address.postal_code} {practice.address.city}"


def home_address(population: Population, cpr: str) -> str | None:
    person = population.persons.get(cpr)
    if person is None:
        return None
    return f"{person.address.line}, {person.address.postal_code} {person.address.city}"


def is_null_reason(appointment: Appointment) -> bool:
    return appointment.reason_code == "NI" or appointment.reason_system == NULL_FLAVOR_SYSTEM


def appointment_resource(population: Population, appointment: Appointment) -> dict[str, Any]:
    """``appointment`` as a FHIR R4 ``Appointment``."""
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": appointment.id,
        "meta": {"versionId": str(appointment.version), "lastUpdated": instant(last_updated(appointment))},
        "identifier": [{"system": URI_SYSTEM, "value": f"urn:uuid:{appointment.id}"}],
        "status": status(appointment),
    }
    extensions: list[dict[str, Any]] = []
    if appointment.all_day:
        first, last = all_day_bounds(appointment.start, appointment.end)
        resource["start"] = midnight(first).isoformat()
        resource["end"] = midnight(last + timedelta(days=1)).isoformat()
        extensions.append({"url": ALL_DAY_URL, "valueBoolean": True})
    else:
        resource["start"] = local(appointment.start).isoformat()
        if appointment.end is not None:
            resource["end"] = local(appointment.end).isoformat()
    if appointment.time_note:
        extensions.append({"url": INDICATIVE_TIME_URL, "valueString": appointment.time_note})
        resource["comment"] = appointment.time_note
    if extensions:
        resource["extension"] = extensions
    kind = organisation_kind(population, appointment.organisation_sor)
    code = appointment.sector_label if appointment.sector_label is not None else APPOINTMENT_CODES.get(kind or "")
    if code:
        resource["appointmentType"] = {"coding": [{"system": MEDCOM_MESSAGE_CODES, "code": code}]}
    if is_null_reason(appointment):
        reason = {"coding": [{"system": NULL_FLAVOR_SYSTEM, "code": "NI"}], "text": appointment.reason_display}
    else:
        coding = {"system": appointment.reason_system, "code": appointment.reason_code}
        reason = {"coding": [{**coding, "display": appointment.reason_display}], "text": appointment.reason_display}
    resource["reasonCode"] = [reason]
    if appointment.title:
        resource["description"] = appointment.title
    organisation = appointment.organisation_sor
    resource["contained"] = [_location(population, appointment)]
    resource["participant"] = [
        _participant(_patient_actor(appointment, resource["contained"])),
        _participant(
            {
                "type": "HealthcareService",
                "identifier": {"system": SOR_SYSTEM, "value": organisation},
                "display": organisation_name(population, organisation),
            }
        ),
        _participant({"type": "Location", "reference": "#location", "display": resource["contained"][0]["name"]}),
    ]
    if appointment.related_person_cpr:
        relative = {
            "type": "RelatedPerson",
            "identifier": {"system": CPR_SYSTEM, "value": appointment.related_person_cpr},
        }
        resource["participant"].insert(0, _participant(relative))
    return resource


def patient_id(cpr: str) -> str:
    """The id the endpoint gives a patient's ``Patient`` resource (not the CPR number)."""
    return "p-" + hashlib.sha256(cpr.encode()).hexdigest()[:12]


def patient_resource(cpr: str, resource_id: str | None = None) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": resource_id or patient_id(cpr),
        "identifier": [{"system": CPR_SYSTEM, "value": cpr}],
    }


def _patient_actor(appointment: Appointment, contained: list[dict[str, Any]]) -> dict[str, Any]:
    if appointment.patient_reference == "literal":
        return {"reference": f"Patient/{patient_id(appointment.cpr)}"}
    if appointment.patient_reference == "conflicting":  # the reference names the patient, the identifier another
        other = appointment.related_person_cpr or appointment.cpr
        reference = f"Patient/{patient_id(appointment.cpr)}"
        return {"type": "Patient", "reference": reference, "identifier": {"system": CPR_SYSTEM, "value": other}}
    if appointment.patient_reference == "foreign":  # another server's Patient with the included one's id
        return {"reference": f"{FOREIGN_BASE}/Patient/{patient_id(appointment.cpr)}"}
    if appointment.patient_reference == "contained":
        contained.append(patient_resource(appointment.cpr, "patient"))
        return {"reference": "#patient"}
    return {"type": "Patient", "identifier": {"system": CPR_SYSTEM, "value": appointment.cpr}}


def _participant(actor: dict[str, Any]) -> dict[str, Any]:
    return {"actor": actor, "required": "required", "status": "accepted"}


def _location(population: Population, appointment: Appointment) -> dict[str, Any]:
    if appointment.at_home:
        location: dict[str, Any] = {
            "resourceType": "Location",
            "id": "location",
            "mode": "kind",
            "name": "Borgers hjemmeadresse",
            "type": [{"coding": [{"system": ROLE_CODE_SYSTEM, "code": "PTRES", "display": "patient's residence"}]}],
        }
        address = home_address(population, appointment.cpr)
    else:
        sor = appointment.location_sor or appointment.organisation_sor
        location = {
            "resourceType": "Location",
            "id": "location",
            "mode": "instance",
            "identifier": [{"system": SOR_SYSTEM, "value": sor}],
            "name": organisation_name(population, sor),
        }
        if appointment.room:
            location["description"] = appointment.room
        address = organisation_address(population, sor)
    if address:
        location["address"] = {"text": address}
    return location


def fhir(body: dict[str, Any], status_code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type="application/fhir+json")


def outcome(status_code: int, code: str, text: str) -> JSONResponse:
    issue = {"severity": "error", "code": code, "diagnostics": text}
    return fhir({"resourceType": "OperationOutcome", "issue": [issue]}, status_code)
