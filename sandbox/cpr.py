"""The simulated CPR service: FHIR R4 ``Patient`` search (dk-core) over the sandbox population.

``GET /fhir/Patient?identifier=urn:oid:1.2.208.176.1.2|<cpr1>,<cpr2>,...`` answers a ``searchset``
Bundle holding one Patient per known CPR number; unknown numbers are simply absent. A missing or
malformed ``identifier`` is a ``400`` OperationOutcome. ``GET /fhir/Patient?relation-holder=<system>|<cpr>``
answers every person whose custody holders or guardians include that CPR number (the gateway's own
search parameter, for ``me.actsFor``). The wire format is ``docs/sources/cpr.md``.

The service returns the true data, protected persons included: redaction is the gateway's decision.
A person's ``security_wire`` replaces ``meta`` as sent (an odd spelling of the protection label), and
a person ``left_out`` is never in an answer (CPR answering ``200`` without them).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.population import Person, Population

FHIR_JSON = "application/fhir+json"
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
V3_MARITAL = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
DK_MARITAL = "http://hl7.dk/fhir/core/CodeSystem/dk-marital-status"
EXT = "http://patientoverblik.dk/fhir/StructureDefinition/"
STATUS_SYSTEM = "http://patientoverblik.dk/fhir/CodeSystem/cpr-status"

ADDRESS_SUPPRESSED = frozenset({"20", "30", "50", "60", "70", "90"})
"""Statuses for which NSP suppresses the address (domain.md §1.1)."""

_MARITAL: dict[str, tuple[str, str]] = {
    "U": (V3_MARITAL, "U"),
    "G": (V3_MARITAL, "M"),
    "F": (V3_MARITAL, "D"),
    "E": (V3_MARITAL, "W"),
    "L": (V3_MARITAL, "W"),
    "P": (DK_MARITAL, "P"),
    "O": (DK_MARITAL, "O"),
}
"""CPR civilstand → dk-core maritalStatus; D (dead) is carried by ``deceasedDateTime`` instead."""

_CPR = re.compile(r"[0-9]{10}")


def create_app(population: Population) -> Starlette:
    """The CPR service's Starlette app over ``population``."""

    async def search_patients(request: Request) -> JSONResponse:
        holders = request.query_params.getlist("relation-holder")
        if holders:
            holder = _requested_cprs(holders)
            if holder is None or len(holder) != 1:
                return _outcome("relation-holder must be urn:oid:1.2.208.176.1.2|<cpr>")
            found = [p for p in population.persons.values() if holder[0] in (*p.custody_holders, *p.guardians)]
            return _bundle(found)
        cprs = _requested_cprs(request.query_params.getlist("identifier"))
        if cprs is None:
            return _outcome("identifier must be urn:oid:1.2.208.176.1.2|<cpr>[,<cpr>...]")
        found = [population.persons[cpr] for cpr in cprs if cpr in population.persons]
        return _bundle([person for person in found if not person.left_out])

    return Starlette(routes=[Route("/fhir/Patient", search_patients, methods=["GET"])])


def _bundle(found: list[Person]) -> JSONResponse:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "entry": [{"resource": patient_resource(person)} for person in found],
    }
    return JSONResponse(bundle, media_type=FHIR_JSON)


def _requested_cprs(values: list[str]) -> list[str] | None:
    """The distinct CPR numbers in one ``identifier`` parameter, or ``None`` when it is malformed."""
    if len(values) != 1:
        return None
    system, bar, rest = values[0].partition("|")
    if not bar or system != CPR_SYSTEM:
        return None
    cprs = rest.split(",")
    if not all(_CPR.fullmatch(cpr) for cpr in cprs):
        return None
    return list(dict.fromkeys(cprs))


def _outcome(diagnostics: str) -> JSONResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": diagnostics}],
    }
    return JSONResponse(body, status_code=400, media_type=FHIR_JSON)


def _cpr_identifier(cpr: str) -> dict[str, str]:
    return {"system": CPR_SYSTEM, "value": cpr}


def patient_resource(person: Person) -> dict[str, Any]:
    """The dk-core Patient for ``person``, with the sandbox's CPR-status extensions."""
    extensions: list[dict[str, Any]] = [
        {"url": EXT + "cpr-status", "valueCoding": {"system": STATUS_SYSTEM, "code": person.status}}
    ]
    if person.status_date is not None:
        extensions.append({"url": EXT + "cpr-status-date", "valueDate": person.status_date.isoformat()})
    extensions += [
        {"url": EXT + "custody-holder", "valueIdentifier": _cpr_identifier(c)} for c in person.custody_holders
    ]
    extensions += [{"url": EXT + "guardian", "valueIdentifier": _cpr_identifier(c)} for c in person.guardians]

    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "extension": extensions,
        "identifier": [{"use": "official", **_cpr_identifier(person.cpr)}],
        "name": [{"use": "official", "family": person.family_name, "given": person.given_name.split()}],
        "gender": "male" if person.male else "female",
        "birthDate": person.birth_date_wire or person.birth_date.isoformat(),
    }
    if person.protected:
        patient["meta"] = {"security": [{"system": CONFIDENTIALITY, "code": "R"}]}
    if person.security_wire is not None:
        patient["meta"] = person.security_wire
    if person.status == "90":
        if person.status_date is not None:
            patient["deceasedDateTime"] = person.status_date.isoformat()
        else:
            patient["deceasedBoolean"] = True
    if person.status not in ADDRESS_SUPPRESSED:
        address = person.address
        home = {"use": "home", "line": [address.line], "postalCode": address.postal_code, "city": address.city}
        # A person without a fixed address (status 03, "Uden fast bopæl") has no postal code or city.
        patient["address"] = [{k: v for k, v in home.items() if v} | {"district": address.municipality_code}]
    marital = _MARITAL.get(person.civil_status)
    if marital is not None:
        system, code = marital
        patient["maritalStatus"] = {"coding": [{"system": system, "code": code}]}
    if person.replaced_by is not None:
        patient["link"] = [{"other": {"identifier": _cpr_identifier(person.replaced_by)}, "type": "replaced-by"}]
    return patient
