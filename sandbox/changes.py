"""Appointment changes in the sandbox: when an appointment last changed, and a control route that changes them.

A real appointment system's data changes while the gateway watches it; the sandbox's population is
fixed unless something changes it. Every simulated appointment endpoint (FHIR and DDS) answers FHIR's
``_lastUpdated`` search parameter (``ge``/``gt`` an instant) against :func:`last_updated`, and shows it
as ``meta.lastUpdated``. The control route changes the shared population, so every endpoint serving
the appointment shows the change::

    POST /_sandbox/appointments  {"change": "create", "cpr": "<cpr>", "start": "<ISO date-time>",
                                  "minutes": 30, "organisation_sor": "<sor>", "title": "…",
                                  "endpoints": ["<endpoint>", …]}
                                 {"change": "reschedule", "id": "<id>", "start": "<ISO date-time>"}
                                 {"change": "cancel", "id": "<id>"}
                                 any of them with "every_s": <seconds> repeats it on a timer
    DELETE /_sandbox/appointments/timers                 stops every timer of this endpoint

``create`` makes a booked appointment served by this endpoint (and the ``endpoints`` named) for the
endpoint's own organisation unless ``organisation_sor`` names another; ``start`` defaults to
tomorrow at 10:00 Danish time. ``reschedule`` moves it (booked again) and ``cancel`` cancels it, each a new version
(the DDS document of the old version is superseded). The answer is ``{"id", "version", "updated"}``;
a malformed change is ``400``, an unknown appointment ``404``. The route lives under ``/_sandbox/`` and
is never recorded as a request to the source.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.clinical import APPOINTMENT_ENDPOINTS, Appointment
from sandbox.population import Population

POPULATION_UPDATED = datetime(2024, 1, 1, tzinfo=UTC)
"""When an appointment the sandbox generated last changed: long before any test or demo runs."""
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
CHANGES = ("create", "reschedule", "cancel")
MIN_EVERY_S = 1.0
_UPDATED = re.compile(r"(ge|gt)([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:[0-9]{2}))")


class ChangeRefused(ValueError):
    """A change the control route refuses; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def last_updated(appointment: Appointment) -> datetime:
    """When ``appointment`` last changed (``meta.lastUpdated``), in UTC."""
    return appointment.updated or POPULATION_UPDATED


def instant(moment: datetime) -> str:
    """A FHIR instant in UTC with milliseconds, as servers write ``meta.lastUpdated``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def any_time(appointment: Appointment) -> bool:
    """The ``_lastUpdated`` test of a search without it: every appointment."""
    return True


def updated_filter(value: str) -> Callable[[Appointment], bool]:
    """The ``_lastUpdated`` search value ``ge<instant>`` or ``gt<instant>`` as a test on appointments."""
    match = _UPDATED.fullmatch(value)
    if match is None:
        raise ValueError("_lastUpdated must be ge<instant> or gt<instant> with a time zone")
    try:
        since = datetime.fromisoformat(match.group(2).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError("_lastUpdated must be a real instant") from exc
    if match.group(1) == "ge":
        return lambda appointment: last_updated(appointment) >= since
    return lambda appointment: last_updated(appointment) > since


def change_routes(population: Population, endpoint: str) -> list[Route]:
    """The control routes that change ``population``'s appointments, for the endpoint named ``endpoint``."""
    timers: set[asyncio.Task[None]] = set()

    async def post(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise ChangeRefused("the body must be a JSON object")
            every = _every(body.pop("every_s", None))
            changed = apply_change(population, endpoint, body)
        except ChangeRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if every is not None:
            again = {**body, "id": changed.id} if body.get("change") != "create" else body
            task = asyncio.create_task(_repeat(population, endpoint, again, every))
            timers.add(task)
            task.add_done_callback(timers.discard)
        return JSONResponse({"id": changed.id, "version": changed.version, "updated": instant(last_updated(changed))})

    async def stop(request: Request) -> Response:
        for task in list(timers):
            task.cancel()
        return Response(status_code=204)

    return [
        Route("/_sandbox/appointments", post, methods=["POST"]),
        Route("/_sandbox/appointments/timers", stop, methods=["DELETE"]),
    ]


def apply_change(population: Population, endpoint: str, body: dict[str, Any]) -> Appointment:
    """Make the change ``body`` describes and return the appointment as it is now."""
    change = body.get("change")
    now = datetime.now(UTC)
    if change == "create":
        created = _created(population, endpoint, body, now)
        population.clinical.appointments.append(created)
        return created
    if change not in CHANGES:
        raise ChangeRefused(f"change must be one of {CHANGES}")
    wanted = body.get("id")
    found = next((a for a in population.clinical.appointments if a.id == wanted), None)
    if found is None:
        raise ChangeRefused("no such appointment", 404)
    found.earlier_starts.append(found.start)
    found.version += 1
    found.updated = now
    if change == "reschedule":
        moved = _start(body.get("start"))
        if found.end is not None:
            found.end = moved + (found.end - found.start)
        found.start, found.status, found.deprecated = moved, "booked", False
    else:
        found.status, found.deprecated = "cancelled", True
    return found


def _created(population: Population, endpoint: str, body: dict[str, Any], now: datetime) -> Appointment:
    cpr = body.get("cpr")
    if not isinstance(cpr, str) or not re.fullmatch(r"[0-9]{10}", cpr):
        raise ChangeRefused("cpr must be 10 digits")
    spec = next((e for e in APPOINTMENT_ENDPOINTS if e.name == endpoint), None)
    sor = body.get("organisation_sor") or (spec.owner_sor if spec is not None else None)
    if not isinstance(sor, str) or not re.fullmatch(r"[0-9]{6,18}", sor):
        raise ChangeRefused("organisation_sor must be a SOR code (this endpoint has no organisation of its own)")
    start = _start(body.get("start"))
    minutes = body.get("minutes", 30)
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise ChangeRefused("minutes must be 1 to 1440")
    others = body.get("endpoints", [])
    if not isinstance(others, list) or not all(e in {s.name for s in APPOINTMENT_ENDPOINTS} for e in others):
        raise ChangeRefused("endpoints must name the sandbox's appointment endpoints")
    title = body.get("title")
    return Appointment(
        id=str(uuid.uuid4()),
        cpr=cpr,
        endpoints=tuple(dict.fromkeys([endpoint, *others])),
        organisation_sor=sor,
        start=start,
        end=start + timedelta(minutes=minutes),
        title=title if isinstance(title, str) else "Ny aftale",
        updated=now,
    )


def _start(value: object) -> datetime:
    if value is None:
        tomorrow = datetime.now(COPENHAGEN).date() + timedelta(days=1)
        return datetime.combine(tomorrow, time(10), COPENHAGEN)
    if not isinstance(value, str):
        raise ChangeRefused("start must be an ISO date-time with its offset")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ChangeRefused("start must be an ISO date-time with its offset") from exc
    if moment.tzinfo is None:
        raise ChangeRefused("start must be an ISO date-time with its offset")
    return moment


def _every(value: object) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or value < MIN_EVERY_S:
        raise ChangeRefused(f"every_s must be a number of at least {MIN_EVERY_S:g}")
    return float(value)


async def _repeat(population: Population, endpoint: str, body: dict[str, Any], every_s: float) -> None:
    """Make the change again every ``every_s`` seconds (a reschedule a day later each time) until stopped."""
    while True:
        await asyncio.sleep(every_s)
        again = dict(body)
        if again.get("change") == "reschedule":
            found = next((a for a in population.clinical.appointments if a.id == again.get("id")), None)
            if found is None:
                return
            again["start"] = (found.start + timedelta(days=1)).isoformat()
        try:
            apply_change(population, endpoint, again)
        except ValueError:
            return
