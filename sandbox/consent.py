"""Simulated Samtykkeservice / "Min Spærring": citizens' blocks as FHIR R4 ``Consent`` (deny).

Routes (``docs/sources/consent.md``):

- ``GET /fhir/Consent?patient.identifier=urn:oid:1.2.208.176.1.2|<cpr>,<cpr>&status=active``: a
  searchset ``Bundle`` of the patients' blocks (400 when the identifier list is not CPR numbers),
  each as its ``wire``, ``resource_wire`` and ``search_mode`` say (odd data real services send).
- ``POST /fhir/Consent``: store a new block (201 with the stored resource, 422 when invalid).
- ``DELETE /fhir/Consent/<id>``: withdraw a block (204, 404 when unknown).
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.population import Block, Population

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
AUTHORIZATION_SYSTEM = "https://autregweb.sst.dk"
INCLUDE_SUBUNITS_URL = "http://patientoverblik.dk/fhir/StructureDefinition/include-subunits"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

_CPR = re.compile(r"[0-9]{10}")
_AUTHORIZATION = re.compile(r"[0-9A-Za-z]{5}")
_SOR = re.compile(r"[0-9]{6,18}")


class _Invalid(ValueError):
    """The request body is not a valid block (answered 422)."""


def create_app(population: Population) -> Starlette:
    """The consent simulator over ``population.blocks``."""

    async def search(request: Request) -> JSONResponse:
        value = request.query_params.get("patient.identifier", "")
        cprs = [item.rpartition("|")[2] if item.startswith(CPR_SYSTEM) else item for item in value.split(",")]
        if not value or not all(_CPR.fullmatch(cpr) for cpr in cprs):
            return _outcome(400, "invalid", "patient.identifier must list CPR numbers")
        status = request.query_params.get("status", "active")
        wanted = set(cprs) if "active" in status.split(",") else set()
        entries = [
            {"resource": _consent(block), "search": {"mode": block.search_mode}}
            for block in population.blocks
            if block.cpr in wanted
        ]
        return _fhir({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})

    async def create(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _outcome(400, "structure", "body is not JSON")
        try:
            block = _block_from_consent(body, _next_id(population.blocks))
        except _Invalid as exc:
            return _outcome(422, "invalid", str(exc))
        if block.cpr not in population.persons:
            return _outcome(422, "invalid", "unknown patient")
        population.blocks.append(block)
        return _fhir(_consent(block), 201, headers={"Location": f"/fhir/Consent/{block.id}"})

    async def delete(request: Request) -> Response:
        block_id = request.path_params["id"]
        kept = [block for block in population.blocks if block.id != block_id]
        if len(kept) == len(population.blocks):
            return _outcome(404, "not-found", "no such consent")
        population.blocks[:] = kept
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/fhir/Consent", search, methods=["GET"]),
            Route("/fhir/Consent", create, methods=["POST"]),
            Route("/fhir/Consent/{id}", delete, methods=["DELETE"]),
        ]
    )


def _fhir(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/fhir+json")


def _outcome(status: int, code: str, text: str) -> JSONResponse:
    issue = {"severity": "error", "code": code, "diagnostics": text}
    return _fhir({"resourceType": "OperationOutcome", "issue": [issue]}, status)


def _next_id(blocks: list[Block]) -> str:
    numbers = [int(b.id.removeprefix("block-")) for b in blocks if re.fullmatch(r"block-[0-9]+", b.id)]
    return f"block-{max(numbers, default=0) + 1}"


def _period(start: date | None, end: date | None) -> dict[str, str] | None:
    period = {key: day.isoformat() for key, day in (("start", start), ("end", end)) if day is not None}
    return period or None


def _consent(block: Block) -> dict[str, Any]:
    """``block`` as a FHIR ``Consent`` with a deny provision."""
    provision: dict[str, Any] = {"type": "deny"}
    if validity := _period(block.valid_from, block.valid_to):
        provision["period"] = validity
    actor = {
        "professional": (AUTHORIZATION_SYSTEM, block.authorization_id),
        "organisation": (SOR_SYSTEM, block.organisation_sor),
    }.get(block.kind)
    if actor is not None:
        role = {"coding": [{"system": PARTICIPATION_SYSTEM, "code": "PRCP"}]}
        provision["actor"] = [{"role": role, "reference": {"identifier": {"system": actor[0], "value": actor[1]}}}]
    if data := _period(block.data_start, block.data_end):
        provision["dataPeriod"] = data
    if block.kind == "organisation":
        provision["extension"] = [{"url": INCLUDE_SUBUNITS_URL, "valueBoolean": block.include_subunits}]
    provision |= block.wire or {}
    resource = {
        "resourceType": "Consent",
        "id": block.id,
        "status": "active",
        "scope": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"identifier": {"system": CPR_SYSTEM, "value": block.cpr}},
        "policyRule": {"text": "Sundhedsloven § 42a"},
        "provision": provision,
    }
    return resource | (block.resource_wire or {})


def _block_from_consent(body: Any, block_id: str) -> Block:
    """Parse a POSTed ``Consent`` into a :class:`Block`, or raise :class:`_Invalid`."""
    if not isinstance(body, dict) or body.get("resourceType") != "Consent":
        raise _Invalid("body must be a Consent")
    if body.get("status", "active") != "active":
        raise _Invalid("only active consents can be created")
    identifier = _dict(_dict(body, "patient"), "identifier")
    cpr = identifier.get("value")
    if identifier.get("system") != CPR_SYSTEM or not isinstance(cpr, str) or not _CPR.fullmatch(cpr):
        raise _Invalid("patient must carry a CPR identifier")
    provision = _dict(body, "provision")
    if provision.get("type") != "deny":
        raise _Invalid("provision.type must be deny")
    actors = provision.get("actor", [])
    if not isinstance(actors, list) or len(actors) > 1:
        raise _Invalid("at most one actor")
    valid_from, valid_to = _dates(provision, "period")
    data_start, data_end = _dates(provision, "dataPeriod")
    subunits = [
        e.get("valueBoolean")
        for e in provision.get("extension", [])
        if isinstance(e, dict) and e.get("url") == INCLUDE_SUBUNITS_URL
    ]
    block = Block(block_id, cpr, "data_period", include_subunits=subunits[:1] == [True])
    block.valid_from, block.valid_to, block.data_start, block.data_end = valid_from, valid_to, data_start, data_end
    if actors:
        actor = _dict(_dict(actors[0], "reference"), "identifier")
        system, value = actor.get("system"), actor.get("value")
        if system == AUTHORIZATION_SYSTEM and isinstance(value, str) and _AUTHORIZATION.fullmatch(value):
            block.kind, block.authorization_id = "professional", value
        elif system == SOR_SYSTEM and isinstance(value, str) and _SOR.fullmatch(value):
            block.kind, block.organisation_sor = "organisation", value
        else:
            raise _Invalid("actor must be an authorisation ID or a SOR code")
    elif data_start is None and data_end is None:
        raise _Invalid("a block needs an actor or a data period")
    return block


def _dict(value: Any, key: str) -> dict[str, Any]:
    item = value.get(key) if isinstance(value, dict) else None
    if not isinstance(item, dict):
        raise _Invalid(f"{key} must be an object")
    return item


def _dates(provision: dict[str, Any], key: str) -> tuple[date | None, date | None]:
    if key not in provision:
        return None, None
    period = _dict(provision, key)
    return _date(period.get("start"), key), _date(period.get("end"), key)


def _date(value: Any, key: str) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"{key} must hold dates")
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise _Invalid(f"{key} must hold dates") from exc
