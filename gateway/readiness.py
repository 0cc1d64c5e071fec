"""``/readyz``: whether this instance should get traffic, and if not, why (ADR 0024).

``/healthz`` stays a liveness check (the process answers). ``/readyz`` answers **200**
``{"status": "ready", "checks": {...}}`` or **503** ``{"status": "not_ready", "checks": {...}}``,
each check ``{"state": "ok" | "failing", "reason": text or null}``; it is not ready when

- ``access_log``: the access log cannot be written (no record, no data: every answer with patient data
  would fail closed). :meth:`~auth.access_log.AccessLog.probe` takes a connection (or the file's write
  lock) within the acquire timeout and writes nothing; one probe runs at a time and its result is
  reused for ``PATIENTOVERBLIK_READINESS__CACHE_S``, so a storm of checks costs the database one probe
  a second;
- ``source:<name>``: the circuit breaker of a required source is open
  (``PATIENTOVERBLIK_READINESS__REQUIRED_SOURCES``, by default the decision inputs, and their OAuth2
  token endpoints ``<name>.token``). A half-open breaker is ready: its one probe needs a request.

Reasons are fixed texts with at most an error's class name: no personal data, no upstream text.
Every change of a check's state (and of the whole) is logged once, at WARNING when it starts failing
and INFO when it is ok again, and counted: ``patientoverblik_ready`` (1 ready, 0 not),
``patientoverblik_readiness_check{check}`` (1 ok, 0 failing) and
``patientoverblik_readiness_changes_total{check, state}``. A ``/metrics`` scrape evaluates them too.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from prometheus_client import Counter, Gauge
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.access_log import AccessLog
from sources.breaker import BreakerState

_log = logging.getLogger("patientoverblik.readiness")

ACCESS_LOG: Final = "access_log"
"""The name of the access-log check."""
SOURCE_PREFIX: Final = "source:"
PROBE_TIMEOUT_S: Final = 5.0
"""A probe that takes longer than this (the stores bound their own waits well below) counts as failing."""

READY = Gauge("patientoverblik_ready", "1 when /readyz says ready, 0 when not (read when /readyz or /metrics is).")
READINESS_CHECK = Gauge("patientoverblik_readiness_check", "1 when a readiness check is ok, 0 when failing.", ["check"])
READINESS_CHANGES = Counter(
    "patientoverblik_readiness_changes",
    "Changes of a readiness check's state, by check and new state.",
    ["check", "state"],
)


class CheckState(StrEnum):
    """How one readiness check stands."""

    OK = "ok"
    FAILING = "failing"


@dataclass(frozen=True, slots=True)
class Check:
    """One check's state, and why it fails (a fixed text, never data)."""

    state: CheckState
    reason: str | None = None


OK = Check(CheckState.OK)


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    """Every check, by name."""

    checks: Mapping[str, Check]

    @property
    def ready(self) -> bool:
        return all(check.state is CheckState.OK for check in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        """The body of ``/readyz``."""
        return {
            "status": "ready" if self.ready else "not_ready",
            "checks": {name: {"state": c.state.value, "reason": c.reason} for name, c in self.checks.items()},
        }


class Readiness:
    """The checks of one gateway process; ``timer`` defaults to ``time.monotonic``."""

    def __init__(
        self,
        access_log: AccessLog,
        breakers: Callable[[], Mapping[str, BreakerState]],
        required: Iterable[str],
        *,
        cache_s: float = 1.0,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._access_log = access_log
        self._breakers = breakers
        self._required = frozenset(required)
        self._cache_s = cache_s
        self._timer = timer
        self._probed: tuple[float, Check] | None = None
        self._probing: asyncio.Task[Check] | None = None
        self._last: dict[str, CheckState] = {}
        self._ready = True

    async def report(self) -> ReadinessReport:
        """Every check now (the access log's probe as cached), each change logged and counted once."""
        checks = {ACCESS_LOG: await self._access_log_check(), **self._source_checks()}
        report = ReadinessReport(checks)
        self._note(report)
        return report

    async def _access_log_check(self) -> Check:
        if self._probed is not None and self._timer() - self._probed[0] < self._cache_s:
            return self._probed[1]
        if self._probing is None:
            # A task of no request: a probe one request started serves the others, and outlives it.
            self._probing = asyncio.get_running_loop().create_task(self._probe(), context=contextvars.Context())
        return await asyncio.shield(self._probing)

    async def _probe(self) -> Check:
        try:
            try:
                await asyncio.wait_for(self._access_log.probe(), PROBE_TIMEOUT_S)
            except Exception as exc:  # whatever stops a write makes the instance not ready; the class says which
                check = Check(CheckState.FAILING, f"the access log cannot be written ({type(exc).__name__})")
            else:
                check = OK
            self._probed = (self._timer(), check)
            return check
        finally:
            self._probing = None

    def _source_checks(self) -> dict[str, Check]:
        checks: dict[str, Check] = {}
        for name, state in sorted(self._breakers().items()):
            if name in self._required or name.removesuffix(".token") in self._required:
                failing = state is BreakerState.OPEN
                checks[SOURCE_PREFIX + name] = Check(CheckState.FAILING, "circuit breaker open") if failing else OK
        return checks

    def _note(self, report: ReadinessReport) -> None:
        for name, check in report.checks.items():
            READINESS_CHECK.labels(name).set(1 if check.state is CheckState.OK else 0)
            if self._last.get(name, CheckState.OK) is not check.state:
                READINESS_CHANGES.labels(name, check.state.value).inc()
                level = logging.INFO if check.state is CheckState.OK else logging.WARNING
                _log.log(level, "readiness check %s is %s", name, check.state.value, extra=_fields(name, check))
            self._last[name] = check.state
        READY.set(1 if report.ready else 0)
        if report.ready is not self._ready:
            _log.log(
                logging.INFO if report.ready else logging.WARNING,
                "the gateway is %s",
                "ready" if report.ready else "not ready",
                extra={"ready": report.ready},
            )
        self._ready = report.ready


def _fields(name: str, check: Check) -> dict[str, object]:
    return {"check": name, "state": check.state.value, "reason": check.reason}


def readiness_endpoint(readiness_of: Callable[[Request], Readiness | None]) -> Callable[[Request], Awaitable[Response]]:
    """``GET /readyz``; ``readiness_of`` finds the process's :class:`Readiness` (``None`` while starting)."""

    async def readyz(request: Request) -> Response:
        readiness = readiness_of(request)
        if readiness is None:
            body: dict[str, object] = {"status": "not_ready", "checks": {}, "reason": "starting"}
            return JSONResponse(body, status_code=503, headers={"cache-control": "no-store"})
        report = await readiness.report()
        return JSONResponse(
            report.as_json(), status_code=200 if report.ready else 503, headers={"cache-control": "no-store"}
        )

    return readyz
