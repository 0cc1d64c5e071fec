"""Simulated will and donor registers: JSON lookups for many CPR numbers in one request.

- ``GET /registrations?cpr=<cpr>,<cpr>`` answers ``{"results": [...]}``: *whether* each known CPR has a
  treatment will, living will, organ donor decision and resuscitation opt-out.
- ``GET /registrations/details?cpr=<cpr>,<cpr>`` answers the content of those registrations (dates,
  the situations a treatment will covers, the donor decision and organs), ``null`` for each register
  the person is not in.

Unknown CPRs are absent from ``results``; ``400`` when ``cpr`` is missing or holds something else than
CPR numbers (``docs/sources/registers.md``). A set flag whose details the population leaves unset gets
deterministic defaults derived from the CPR number: a full donor permission, a treatment will covering
every situation, and a registration day inside the register's lifetime, after the minimum age, and on or
before both 1 October 2025 and the population's anchor day.
"""

from __future__ import annotations

import re
import zlib
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.cprgen import birth_date_of
from sandbox.population import Population, Registrations

_CPR = re.compile(r"[0-9]{10}")

_TREATMENT_WILL = (date(2019, 1, 1), None, 18)
"""Behandlingstestamente: registered since 1 January 2019, from age 18."""
_LIVING_WILL = (date(1992, 10, 1), date(2018, 12, 31), 18)
"""Livstestamente: registered from 1992 until behandlingstestamente replaced it."""
_ORGAN_DONOR = (date(1990, 7, 1), None, 15)
"""Organdonorregistret: from age 15."""
_RESUSCITATION_OPT_OUT = (date(2025, 1, 15), None, 60)
"""Fravalg af genoplivningsforsøg: in force since 15 January 2025, for citizens aged 60 and over."""

_DERIVED_UNTIL = date(2025, 10, 1)
"""Derived registration days fall on or before this day (and the anchor), so they do not move with time."""

DEFAULT_SITUATIONS = ("terminal", "severe_illness", "dementia")
"""The situations a derived treatment will covers."""


def create_app(population: Population) -> Starlette:
    """The registers simulator over ``population.registrations``."""

    async def registrations(request: Request) -> JSONResponse:
        cprs = _cprs(request)
        if cprs is None:
            return _bad_request()
        results = []
        for cpr in cprs:
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

    async def details(request: Request) -> JSONResponse:
        cprs = _cprs(request)
        if cprs is None:
            return _bad_request()
        results = []
        for cpr in cprs:
            flags = population.registrations.get(cpr)
            if flags is not None:
                results.append(details_of(cpr, flags, population.anchor))
        return JSONResponse({"results": results})

    return Starlette(
        routes=[
            Route("/registrations", registrations, methods=["GET"]),
            Route("/registrations/details", details, methods=["GET"]),
        ]
    )


def details_of(cpr: str, flags: Registrations, anchor: date) -> dict[str, Any]:
    """The wire-format details of one person's registrations (``null`` for each flag that is not set)."""
    body: dict[str, Any] = {
        "cpr": cpr,
        "treatmentWill": None,
        "livingWill": None,
        "organDonor": None,
        "resuscitationOptOut": None,
    }
    if flags.treatment_will:
        body["treatmentWill"] = {
            "registered": _day(flags.treatment_will_registered, cpr, "treatment_will", _TREATMENT_WILL, anchor),
            "situations": list(flags.treatment_will_situations or DEFAULT_SITUATIONS),
        }
    if flags.living_will:
        body["livingWill"] = {
            "registered": _day(flags.living_will_registered, cpr, "living_will", _LIVING_WILL, anchor)
        }
    if flags.organ_donor:
        decision = flags.organ_donor_decision or "FULL"
        body["organDonor"] = {
            "decision": decision,
            "registered": _day(flags.organ_donor_registered, cpr, "organ_donor", _ORGAN_DONOR, anchor),
            "organs": list(flags.organ_donor_organs) if decision.startswith("LIMITED") else [],
        }
    if flags.resuscitation_opt_out:
        body["resuscitationOptOut"] = {
            "registered": _day(
                flags.resuscitation_opt_out_registered, cpr, "resuscitation_opt_out", _RESUSCITATION_OPT_OUT, anchor
            )
        }
    return body


def _day(given: date | None, cpr: str, register: str, lifetime: tuple[date, date | None, int], anchor: date) -> str:
    """``given``, or a registration day derived from the CPR number, as an ISO date."""
    if given is not None:
        return given.isoformat()
    opened, closed, minimum_age = lifetime
    birth = birth_date_of(cpr)
    first = max(opened, date(birth.year + minimum_age, birth.month, min(birth.day, 28)))
    last = min(closed or _DERIVED_UNTIL, anchor)
    if last <= first:
        return last.isoformat()
    offset = zlib.crc32(f"{register}:{cpr}".encode()) % ((last - first).days + 1)
    return date.fromordinal(first.toordinal() + offset).isoformat()


def _cprs(request: Request) -> list[str] | None:
    """The distinct CPR numbers asked for, or ``None`` when ``cpr`` is missing or malformed."""
    value = request.query_params.get("cpr", "")
    cprs = value.split(",")
    if not value or not all(_CPR.fullmatch(cpr) for cpr in cprs):
        return None
    return list(dict.fromkeys(cprs))


def _bad_request() -> JSONResponse:
    return JSONResponse({"error": "cpr must list CPR numbers"}, status_code=400)
