"""A circuit breaker per upstream (and per appointment or plan endpoint): stop calling a source that is down.

States (:class:`BreakerState`, ADR 0013)::

    CLOSED ──(``failures`` failed requests in a row)──▶ OPEN ──(``cool_down_s`` passed)──▶ HALF_OPEN
      ▲                                                   ▲                                  │
      └───────────────(the probe succeeded)───────────────┼──────(the probe failed)──────────┘

- CLOSED: every request goes out; each failure counts, any success resets the count.
- OPEN: no request goes out; :meth:`Breaker.admit` raises :class:`~sources.errors.SourceCircuitOpen`
  (a ``SourceUnavailable``: ``SOURCE_UNAVAILABLE`` naming the source) at once.
- HALF_OPEN: one request at a time goes out as a probe; the others fail fast as when open.

A failure is a request the source did not answer usably at the transport level: a failed or dropped
connection, the source's own deadline passing while the request was out (not a shorter one the request's
deadline set, ADR 0024), or a 5xx status. A 4xx is an
answer (the source is up and refused the request) and so is a body the adapter refuses; neither counts.
One breaker belongs to one ``SourceClient``; all its state changes run on the event loop's thread.
Each opening counts in ``patientoverblik_source_breaker_opened_total`` (:mod:`sources.telemetry`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sources import clock
from sources.errors import SourceCircuitOpen
from sources.telemetry import BREAKER_OPENED


class BreakerState(StrEnum):
    """Whether requests to a source go out."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a breaker opens and how long it stays open."""

    failures: int = 5
    """Failed requests in a row that open the breaker (at least 1)."""
    cool_down_s: float = 10.0
    """Seconds the breaker stays open before one probe may go out."""


class Breaker:
    """The breaker of one source; ``timer`` defaults to :func:`sources.clock.monotonic`."""

    def __init__(self, source: str, policy: BreakerPolicy, timer: Callable[[], float] | None = None) -> None:
        self.source = source
        self.policy = policy
        self._timer = timer
        self._failures = 0
        self._opened_at = 0.0
        self._open = False
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose cool-down has passed reads as half-open)."""
        if not self._open:
            return BreakerState.CLOSED
        if self._now() - self._opened_at >= self.policy.cool_down_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def admit(self) -> None:
        """Let one request go out, or raise :class:`~sources.errors.SourceCircuitOpen`.

        Every admitted request must end in exactly one of :meth:`succeeded`, :meth:`failed` or
        :meth:`released`.
        """
        match self.state:
            case BreakerState.CLOSED:
                return
            case BreakerState.HALF_OPEN if not self._probing:
                self._probing = True
                return
            case BreakerState.OPEN | BreakerState.HALF_OPEN:
                raise SourceCircuitOpen(self.source, "circuit open")

    def succeeded(self) -> None:
        """The source answered: close the breaker and forget earlier failures."""
        self._failures = 0
        self._open = False
        self._probing = False

    def failed(self) -> None:
        """The source failed the request: count it; open (again) at the threshold or after a probe."""
        self._failures += 1
        if self._probing or self._failures >= self.policy.failures:
            if self._probing or not self._open:
                BREAKER_OPENED.labels(self.source).inc()
            self._open = True
            self._opened_at = self._now()
        self._probing = False

    def released(self) -> None:
        """The request ended without telling anything about the source (cancelled by its caller)."""
        self._probing = False

    def _now(self) -> float:
        return (self._timer or clock.monotonic)()
