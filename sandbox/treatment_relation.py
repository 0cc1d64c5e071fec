"""Simulated BRS (Behandlingsrelationsservice): does professional X at place Y treat patient P?

``POST /brs/relations`` with ``{"queries": [{"patient", "authorizationId", "organisationSor"}]}``
answers ``{"results": [...]}`` in the same order (``docs/sources/treatment_relation.md``). Answers
come from ``population.relations``; the organisation is echoed, not checked. A relation of a doctor
at the patient's own practice is of kind ``SSR`` (Sygesikringsregistret), any other ``LPR3``.
A malformed body is answered ``400``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.population import Population

_CPR = re.compile(r"[0-9]{10}")
_AUTHORIZATION = re.compile(r"[0-9A-Za-z]{5}")
_SOR = re.compile(r"[0-9]{6,18}")


def create_app(population: Population) -> Starlette:
    """The BRS simulator over ``population.relations``."""

    def kinds(authorization_id: str, cpr: str) -> list[str]:
        if (authorization_id, cpr) not in population.relations:
            return []
        person = population.persons.get(cpr)
        practice = population.practices.get(person.ydernummer or "") if person else None
        if practice is not None and any(d.authorization_id == authorization_id for d in practice.doctors):
            return ["SSR"]
        return ["LPR3"]

    async def relations(request: Request) -> JSONResponse:
        try:
            queries = _queries(json.loads(await request.body()))
        except ValueError:
            return JSONResponse({"error": "body must be {queries: [{patient, authorizationId, organisationSor}]}"}, 400)
        results = []
        for cpr, authorization_id, sor in queries:
            found = kinds(authorization_id, cpr)
            results.append(
                {
                    "patient": cpr,
                    "authorizationId": authorization_id,
                    "organisationSor": sor,
                    "hasRelation": bool(found),
                    "kinds": found,
                }
            )
        return JSONResponse({"results": results})

    return Starlette(routes=[Route("/brs/relations", relations, methods=["POST"])])


def _queries(body: Any) -> list[tuple[str, str, str | None]]:
    """Validate the request body (``ValueError`` when malformed)."""
    queries = body.get("queries") if isinstance(body, dict) else None
    if not isinstance(queries, list):
        raise ValueError("queries must be a list")
    parsed = []
    for query in queries:
        if not isinstance(query, dict):
            raise ValueError("a query must be an object")
        cpr, authorization_id, sor = query.get("patient"), query.get("authorizationId"), query.get("organisationSor")
        if not isinstance(cpr, str) or not _CPR.fullmatch(cpr):
            raise ValueError("patient must be a CPR number")
        if not isinstance(authorization_id, str) or not _AUTHORIZATION.fullmatch(authorization_id):
            raise ValueError("authorizationId must be 5 characters")
        if sor is not None and (not isinstance(sor, str) or not _SOR.fullmatch(sor)):
            raise ValueError("organisationSor must be a SOR code or null")
        parsed.append((cpr, authorization_id, sor))
    return parsed
