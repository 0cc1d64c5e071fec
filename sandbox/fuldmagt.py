"""Simulated Digital Fuldmagt: which powers of attorney one holder has from several givers.

``GET /powers-of-attorney?holder=<cpr>&giver=<cpr>,<cpr>`` answers ``{"powersOfAttorney": [...]}``
with every stored power between the holder and one of the givers, expired ones included (the caller
checks the validity); without ``giver``, every power the holder holds. ``400`` when ``holder`` is
missing or ``holder`` or ``giver`` holds something else than CPR numbers (``docs/sources/fuldmagt.md``).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.population import Population, PowerOfAttorney

_CPR = re.compile(r"[0-9]{10}")


def create_app(population: Population) -> Starlette:
    """The Digital Fuldmagt simulator over ``population.powers_of_attorney``."""

    async def powers(request: Request) -> JSONResponse:
        holder = request.query_params.get("holder", "")
        value = request.query_params.get("giver")
        givers = set(value.split(",")) if value is not None else None
        if not _CPR.fullmatch(holder):
            return JSONResponse({"error": "holder must be a CPR number"}, status_code=400)
        if givers is not None and not all(_CPR.fullmatch(giver) for giver in givers):
            return JSONResponse({"error": "giver must list CPR numbers"}, status_code=400)
        found = [
            _wire(power)
            for power in population.powers_of_attorney
            if power.holder_cpr == holder and (givers is None or power.giver_cpr in givers)
        ]
        return JSONResponse({"powersOfAttorney": found})

    return Starlette(routes=[Route("/powers-of-attorney", powers, methods=["GET"])])


def _wire(power: PowerOfAttorney) -> dict[str, Any]:
    """One power as the service sends it."""
    return {
        "id": power.id,
        "giver": power.giver_cpr,
        "holder": power.holder_cpr,
        "scopes": list(power.scopes),
        "validity": {
            "start": power.valid_from.isoformat() if power.valid_from else None,
            "end": power.valid_to.isoformat() if power.valid_to else None,
        },
    }
