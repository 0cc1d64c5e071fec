"""The simulated Sikrede register and Yderregister over the sandbox population.

- ``GET /sikrede?cpr=<cpr1>,<cpr2>`` answers JSON ``{"entries": [...]}``: each known person's chosen GP
  (``egenLaegeYdernummer``, ``null`` when none) and health-insurance group; unknown CPRs are absent.
- ``GET /fhir/Organization?identifier=urn:oid:1.2.208.176.1.4|<ydernr1>,<ydernr2>`` answers a FHIR
  ``searchset`` Bundle with, per known practice, its ``Organization`` and one ``PractitionerRole`` per
  doctor.

Malformed parameters are ``400``. The wire format is ``docs/sources/yderregister.md``.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.population import Population, Practice

FHIR_JSON = "application/fhir+json"
YDER_SYSTEM = "urn:oid:1.2.208.176.1.4"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
AUTH_SYSTEM = "https://autregweb.sst.dk"

_CPR = re.compile(r"[0-9]{10}")
_YDERNUMMER = re.compile(r"[0-9]{1,6}")


def create_app(population: Population) -> Starlette:
    """The Sikrede + Yderregister service's Starlette app over ``population``."""

    async def sikrede(request: Request) -> JSONResponse:
        values = request.query_params.getlist("cpr")
        cprs = values[0].split(",") if len(values) == 1 else []
        if not cprs or not all(_CPR.fullmatch(cpr) for cpr in cprs):
            return JSONResponse({"error": "cpr must be one or more comma-separated 10-digit numbers"}, status_code=400)
        entries = [
            {
                "cpr": person.cpr,
                "egenLaegeYdernummer": person.ydernummer,
                "sygesikringsgruppe": person.insurance_group,
            }
            for cpr in dict.fromkeys(cprs)
            if (person := population.persons.get(cpr)) is not None
        ]
        return JSONResponse({"entries": entries})

    async def organizations(request: Request) -> JSONResponse:
        ydernumre = _requested_ydernumre(request.query_params.getlist("identifier"))
        if ydernumre is None:
            return _outcome("identifier must be urn:oid:1.2.208.176.1.4|<ydernummer>[,<ydernummer>...]")
        practices = [population.practices[y] for y in ydernumre if y in population.practices]
        entries: list[dict[str, Any]] = []
        for practice in practices:
            entries.append({"resource": organization_resource(practice), "search": {"mode": "match"}})
            entries += [
                {"resource": role, "search": {"mode": "include"}} for role in practitioner_role_resources(practice)
            ]
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(practices), "entry": entries}
        return JSONResponse(bundle, media_type=FHIR_JSON)

    return Starlette(
        routes=[
            Route("/sikrede", sikrede, methods=["GET"]),
            Route("/fhir/Organization", organizations, methods=["GET"]),
        ]
    )


def _requested_ydernumre(values: list[str]) -> list[str] | None:
    """The distinct ydernumre in one ``identifier`` parameter, or ``None`` when it is malformed."""
    if len(values) != 1:
        return None
    system, bar, rest = values[0].partition("|")
    if not bar or system != YDER_SYSTEM:
        return None
    ydernumre = rest.split(",")
    if not all(_YDERNUMMER.fullmatch(ydernummer) for ydernummer in ydernumre):
        return None
    return list(dict.fromkeys(ydernumre))


def _outcome(diagnostics: str) -> JSONResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": diagnostics}],
    }
    return JSONResponse(body, status_code=400, media_type=FHIR_JSON)


def organization_resource(practice: Practice) -> dict[str, Any]:
    """The practice as a FHIR ``Organization`` with its ydernummer and SOR identifiers."""
    address = practice.address
    return {
        "resourceType": "Organization",
        "id": f"yder-{practice.ydernummer}",
        "identifier": [
            {"system": YDER_SYSTEM, "value": practice.ydernummer},
            {"system": SOR_SYSTEM, "value": practice.sor},
        ],
        "active": True,
        "name": practice.name,
        "telecom": [{"system": "phone", "value": practice.phone, "use": "work"}],
        "address": [
            {
                "use": "work",
                "line": [address.line],
                "postalCode": address.postal_code,
                "city": address.city,
                "district": address.municipality_code,
            }
        ],
    }


def practitioner_role_resources(practice: Practice) -> list[dict[str, Any]]:
    """One ``PractitionerRole`` per doctor at the practice, the practitioner referenced inline."""
    return [
        {
            "resourceType": "PractitionerRole",
            "id": f"yder-{practice.ydernummer}-{index}",
            "active": True,
            "organization": {"identifier": {"system": YDER_SYSTEM, "value": practice.ydernummer}},
            "practitioner": {
                "identifier": {"system": AUTH_SYSTEM, "value": doctor.authorization_id},
                "display": doctor.name,
            },
        }
        for index, doctor in enumerate(practice.doctors, start=1)
    ]
