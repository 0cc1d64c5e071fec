"""The hand-written peer: the smallest honest endpoint a team would write instead of the gateway.

``GET /patients/{cpr}/overview`` with a citizen's bearer token answers what the README's overview
query answers (``{"data": {"patient": {...}}}``, the same fields and values), the way a backend-for-
frontend would: Starlette + httpx, the token verified with joserfc against the issuer's JWKS (fetched
once at start-up; RS256/ES256, ``iss``, ``aud``, ``exp``), the citizen allowed their own CPR number
only, the five upstream calls in the gateway's two waves (CPR person, GP assignment, master card with
relatives, registers; then the GP's practice) and one access record committed to SQLite (WAL,
``synchronous=FULL``, as the gateway's store) before the answer leaves. An upstream failure is a 502.

It runs as its own server process, started like the gateway (``uvicorn --factory
bench.peer:app_from_environment``), configured by ``PEER_*`` variables: ``PEER_TRANSPORT``
(``httpx``: httpx's default transport; ``aiohttp``: httpx-aiohttp), ``PEER_DATABASE`` (SQLite
file), ``PEER_ISSUER`` (its URL, the ``iss``; JWKS at ``/.well-known/jwks.json``),
``PEER_UPSTREAMS`` (JSON ``{"cpr": url, "yderregister": url, "stamkort": url, "registers": url}``)
and ``PEER_TIMEOUT_S`` (per call, default 2.0).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
YDER_SYSTEM = "urn:oid:1.2.208.176.1.4"
STATUS_EXT = "http://patientoverblik.dk/fhir/StructureDefinition/cpr-status"
DENTIST_EXT = "http://patientoverblik.dk/fhir/StructureDefinition/dentist"
STATUSES = {"01": "ACTIVE", "03": "ACTIVE_SPECIAL_ROAD_CODE", "05": "ACTIVE_GREENLAND", "20": "INACTIVE",
            "30": "CANCELLED", "50": "DELETED_DUPLICATE", "60": "CHANGED_NUMBER", "70": "MISSING",
            "80": "EMIGRATED", "90": "DEAD"}  # fmt: skip
HIDDEN_ADDRESS = {"20", "30", "50", "60", "70", "80", "90"}
TRANSPORTS = ("httpx", "aiohttp")


def make_client(transport: str, timeout_s: float) -> httpx.AsyncClient:
    """One shared client, as a team would write it: httpx's defaults, or the aiohttp transport."""
    if transport == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        return httpx.AsyncClient(transport=AiohttpTransport(), timeout=timeout_s)
    if transport == "httpx":
        return httpx.AsyncClient(timeout=timeout_s)
    raise ValueError(f"PEER_TRANSPORT must be one of {TRANSPORTS}")


class Store:
    """One SQLite file of access records, written in a worker thread, committed before returning."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS access_record (id TEXT PRIMARY KEY, request_id TEXT NOT NULL, "
            "at TEXT NOT NULL, actor TEXT NOT NULL, patient TEXT NOT NULL, categories TEXT NOT NULL)"
        )
        self._lock = asyncio.Lock()

    async def write(self, actor: str, patient: str, categories: str) -> None:
        row = (str(uuid.uuid4()), str(uuid.uuid4()), datetime.now(UTC).isoformat(), actor, patient, categories)
        async with self._lock:
            await asyncio.to_thread(self._db.execute, "INSERT INTO access_record VALUES (?, ?, ?, ?, ?, ?)", row)

    def close(self) -> None:
        self._db.close()


def create_app(
    upstreams: dict[str, str],
    issuer: str,
    database: Path,
    transport: str = "httpx",
    timeout_s: float = 2.0,
    client: httpx.AsyncClient | None = None,
) -> Starlette:
    """The peer as an ASGI app; ``client`` replaces the one it would make (tests)."""
    state: dict[str, Any] = {}
    claims_registry = jwt.JWTClaimsRegistry(
        leeway=30, iss={"essential": True, "value": issuer}, aud={"essential": True, "value": "patientoverblik"},
        exp={"essential": True},
    )  # fmt: skip

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        http = client or make_client(transport, timeout_s)
        jwks = await http.get(f"{issuer}/.well-known/jwks.json")
        jwks.raise_for_status()
        state.update(http=http, keys=KeySet.import_key_set(jwks.json()), store=Store(database))
        try:
            yield
        finally:
            state["store"].close()
            if client is None:
                await http.aclose()

    async def get(source: str, path: str, **params: str) -> Any:
        response = await state["http"].get(upstreams[source] + path, params=params)
        response.raise_for_status()
        return response.json()

    async def overview(request: Request) -> JSONResponse:
        cpr = request.path_params["cpr"]
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return JSONResponse({"error": "unauthenticated"}, status_code=401)
        try:
            decoded = jwt.decode(token, state["keys"], algorithms=["RS256", "ES256"])
            claims_registry.validate(decoded.claims)
        except (JoseError, ValueError):
            return JSONResponse({"error": "unauthenticated"}, status_code=401)
        if decoded.claims.get("actor_kind") != "citizen":
            return JSONResponse({"error": "forbidden"}, status_code=403)
        if decoded.claims.get("cpr") != cpr:
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            person, insured, card, registers = await asyncio.gather(
                get("cpr", "/fhir/Patient", identifier=f"{CPR_SYSTEM}|{cpr}"),
                get("yderregister", "/sikrede", cpr=cpr),
                get("stamkort", "/fhir/Patient", identifier=f"{CPR_SYSTEM}|{cpr}", _revinclude="RelatedPerson:patient"),
                get("registers", "/registrations", cpr=cpr),
            )
            assignment = insured["entries"][0]
            practice = await get(
                "yderregister", "/fhir/Organization", identifier=f"{YDER_SYSTEM}|{assignment['egenLaegeYdernummer']}"
            )
        except (httpx.HTTPError, KeyError, IndexError, ValueError):
            return JSONResponse({"error": "upstream failed"}, status_code=502)
        patient = {
            "person": _person(person["entry"][0]["resource"]),
            "generalPractitioner": _practice(practice),
            "masterCard": _master_card(card, assignment, registers["results"][0]),
        }
        await state["store"].write(cpr, cpr, "person,general_practitioner,master_card,registrations")
        return JSONResponse({"data": {"patient": patient}})

    return Starlette(routes=[Route("/patients/{cpr}/overview", overview)], lifespan=lifespan)


def _person(resource: dict[str, Any]) -> dict[str, Any]:
    name = resource["name"][0]
    status = next(e["valueCoding"]["code"] for e in resource.get("extension", []) if e["url"] == STATUS_EXT)
    home = resource.get("address", [{}])[0]
    address = None
    if status not in HIDDEN_ADDRESS and home:
        address = ", ".join([*home.get("line", []), f"{home.get('postalCode', '')} {home.get('city', '')}".strip()])
    return {"name": " ".join([*name.get("given", []), name["family"]]), "address": address, "status": STATUSES[status]}


def _practice(bundle: dict[str, Any]) -> dict[str, Any] | None:
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        if resource["resourceType"] == "Organization":
            phone = next((t["value"] for t in resource.get("telecom", []) if t["system"] == "phone"), None)
            return {"name": resource["name"], "phone": phone}
    return None


def _master_card(bundle: dict[str, Any], assignment: dict[str, Any], registers: dict[str, Any]) -> dict[str, Any]:
    resources = [entry["resource"] for entry in bundle.get("entry", [])]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    relatives = [
        {
            "name": " ".join([*r["name"][0].get("given", []), *filter(None, [r["name"][0].get("family")])]),
            "phone": next((t["value"] for t in r.get("telecom", []) if t["system"] == "phone"), None),
        }
        for r in resources
        if r["resourceType"] == "RelatedPerson"
    ]
    language = next(
        (c["language"]["coding"][0]["code"] for c in patient.get("communication", []) if c["preferred"]), None
    )
    return {
        "phone": next((t["value"] for t in patient.get("telecom", []) if t["system"] == "phone"), None),
        "relatives": relatives,
        "dentist": next((e["valueString"] for e in patient.get("extension", []) if e["url"] == DENTIST_EXT), None),
        "preferredLanguage": language,
        "healthInsuranceGroup": assignment.get("sygesikringsgruppe"),
        "registrations": {
            "treatmentWill": registers["treatmentWill"]["registered"],
            "organDonor": registers["organDonor"]["registered"],
        },
    }


def app_from_environment() -> Starlette:
    """The peer configured by ``PEER_*`` variables (see the module docstring)."""
    return create_app(
        upstreams=json.loads(os.environ["PEER_UPSTREAMS"]),
        issuer=os.environ["PEER_ISSUER"],
        database=Path(os.environ["PEER_DATABASE"]),
        transport=os.environ.get("PEER_TRANSPORT", "httpx"),
        timeout_s=float(os.environ.get("PEER_TIMEOUT_S", "2.0")),
    )
