"""Simulated will and donor registers: JSON "has registration" lookups for many CPR numbers.

``GET /registrations?cpr=<cpr>,<cpr>`` answers ``{"results": [...]}`` with one entry per known CPR
(unknown ones are absent) and ``400`` when ``cpr`` is missing or holds something else than CPR
numbers (``docs/sources/registers.md``).
"""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.population import Population

_CPR = re.compile(r"[0-9]{10}")


def create_app(population: Population) -> Starlette:
    """The registers simulator over ``population.registrations``."""

    async def registrations(request: Request) -> JSONResponse:
        value = request.query_params.get("cpr", "")
        cprs = value.split(",")
        if not value or not all(_CPR.fullmatch(cpr) for cpr in cprs):
            return JSONResponse({"error": "cpr must list CPR numbers"}, status_code=400)
        results = []
        for cpr in dict.fromkeys(cprs):
            flags = population.registrations.get(cpr)
            if flags is None:
                continue
            results.append(
                {
                    "cpr": cpr,
                    "treatmentWill": {"registered": flags.treatment_will},
                    "livingWill": {"registered": flags.living_will},
                    "organDonor": {"registered": flags.organ_donor},
                    "resuscitationOptOut": {"registered": flags.resuscitation_opt_out},
                }
            )
        return JSONResponse({"results": results})

    return Starlette(routes=[Route("/registrations", registrations, methods=["GET"])])
