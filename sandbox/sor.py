"""Simulated SOR register: FHIR ``Organization`` search with the ``partOf`` hierarchy.

``GET /fhir/Organization?identifier=urn:oid:1.2.208.176.1.1|<sor>,<sor>`` finds organisations by
SOR code; ``_revinclude:iterate=Organization:partof`` adds every organisation below them,
transitively (``docs/sources/sor.md``). Anything else is ``400``. Each organisation carries its
sector in ``type`` (``region``, ``municipality`` or ``gp`` in :data:`SECTOR_SYSTEM`), unless it is
one of ``population.sectorless`` (a unit the register gives no sector).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.clinical import Organisation
from sandbox.population import Population

SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
SECTOR_SYSTEM = "http://patientoverblik.dk/fhir/CodeSystem/sor-sector"
_PARAMS = {"identifier", "_revinclude:iterate", "_revinclude"}


def create_app(population: Population) -> Starlette:
    """The SOR simulator over the population's organisations (hospitals, municipalities, practices)."""

    def organisations() -> dict[str, Organisation]:
        found = dict(population.clinical.organisations)
        for practice in population.practices.values():
            found.setdefault(practice.sor, Organisation(practice.sor, practice.name, "gp"))
        return found

    async def search(request: Request) -> JSONResponse:
        params = request.query_params
        if set(params) - _PARAMS or "identifier" not in params:
            return _outcome("unsupported search parameters")
        system, _, codes = params["identifier"].partition("|")
        if system != SOR_SYSTEM or not codes:
            return _outcome("identifier must be a SOR code")
        known = organisations()
        matches = [known[c] for c in dict.fromkeys(codes.split(",")) if c in known]
        entries = [_entry(o, "match", population.sectorless) for o in matches]
        if params.get("_revinclude:iterate", params.get("_revinclude")) == "Organization:partof":
            seen = {o.sor for o in matches}
            frontier = set(seen)
            while frontier:
                below = [o for o in known.values() if o.part_of in frontier and o.sor not in seen]
                entries += [_entry(o, "include", population.sectorless) for o in below]
                frontier = {o.sor for o in below}
                seen |= frontier
        return JSONResponse({"resourceType": "Bundle", "type": "searchset", "total": len(matches), "entry": entries})

    return Starlette(routes=[Route("/fhir/Organization", search, methods=["GET"])])


def _entry(organisation: Organisation, mode: str, sectorless: set[str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": organisation.sor,
        "identifier": [{"system": SOR_SYSTEM, "value": organisation.sor}],
        "active": True,
        "name": organisation.name,
    }
    if organisation.sor not in sectorless:
        resource["type"] = [{"coding": [{"system": SECTOR_SYSTEM, "code": organisation.kind}]}]
    if organisation.part_of:
        resource["partOf"] = {"reference": f"Organization/{organisation.part_of}"}
    return {"resource": resource, "search": {"mode": mode}}


def _outcome(text: str) -> JSONResponse:
    issue = {"severity": "error", "code": "invalid", "diagnostics": text}
    return JSONResponse({"resourceType": "OperationOutcome", "issue": [issue]}, status_code=400)
