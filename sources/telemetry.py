"""What one upstream call tells operators: a span and metric samples, never personal data (ADR 0019).

Every call of :class:`~sources.base.SourceClient` (``get_json``, ``get_bytes``, ``send_json``, and
the fetch of an OAuth2 access token) runs inside :func:`observed_call`, which gives it:

- one OpenTelemetry span, kind ``CLIENT``, named ``"{METHOD} {route}"``, with the attributes
  ``patientoverblik.source`` (the source or endpoint name), ``http.request.method``,
  ``url.template`` (the route: the path without its query string, every segment that could be an
  identifier replaced by ``{id}``, see :func:`route_of`), ``server.address`` and ``server.port``,
  ``http.response.status_code`` (of the last attempt), ``http.request.resend_count`` (retries, when
  any), ``patientoverblik.outcome`` (:class:`CallOutcome`), ``patientoverblik.breaker.state`` (the
  source's breaker after the call) and, on failure, ``error.type`` (the error's class name). Each
  retry adds a ``retry`` event with the attempt number. No query string, header, body or upstream
  text is ever an attribute: FHIR searches carry CPR numbers in their parameters. Spans are only
  recorded when the gateway installs a tracer provider (``gateway/tracing.py``); otherwise the API's
  no-op tracer makes this free;
- samples of three Prometheus families in the process's default registry (served at ``/metrics``):
  ``patientoverblik_source_calls_total{source, outcome}``,
  ``patientoverblik_source_call_duration_seconds{source}`` (the whole call, retries included) and
  ``patientoverblik_source_retries_total{source}``; and, from :mod:`sources.breaker`,
  ``patientoverblik_source_breaker_opened_total{source}``.

Label values are bounded: source names come from the settings, outcomes from :class:`CallOutcome`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Histogram

from sources.errors import (
    SourceCircuitOpen,
    SourceError,
    SourceRejected,
    SourceResponseInvalid,
    SourceSkipped,
    SourceTimeout,
    SourceUnavailable,
)

TRACER = trace.get_tracer("patientoverblik.sources")
"""The tracer of upstream calls (a proxy until a tracer provider is installed)."""


class CallOutcome(StrEnum):
    """How one upstream call ended (the ``outcome`` label)."""

    OK = "ok"
    """The source answered with a status below 400 and the answer was read."""
    REJECTED = "rejected"
    """The source answered with a 4xx: it is up and refused the request (or had no such record)."""
    SERVER_ERROR = "server_error"
    """The source answered with a 5xx (after any retries)."""
    UNAVAILABLE = "unavailable"
    """No answer: the connection failed or broke."""
    TIMEOUT = "timeout"
    """The call's total deadline passed."""
    CIRCUIT_OPEN = "circuit_open"
    """Not sent: the source's breaker is open."""
    SKIPPED = "skipped"
    """Not sent: the request's deadline left less than the least time of a call (ADR 0024)."""
    INVALID_RESPONSE = "invalid_response"
    """The source answered, but the body was too large, badly encoded or not the expected format."""
    CANCELLED = "cancelled"
    """The caller stopped waiting (the request ended first)."""
    ERROR = "error"
    """Anything else (a bug: the gateway reports it as ``INTERNAL_ERROR``)."""


SOURCE_CALLS = Counter(
    "patientoverblik_source_calls",
    "Calls to upstream sources, by source (or endpoint) and outcome.",
    ["source", "outcome"],
)
SOURCE_CALL_SECONDS = Histogram(
    "patientoverblik_source_call_duration_seconds",
    "Duration of one upstream call in seconds, every retry and the wait before it included.",
    ["source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
)
SOURCE_RETRIES = Counter(
    "patientoverblik_source_retries", "Retries of idempotent upstream calls, by source.", ["source"]
)
BREAKER_OPENED = Counter(
    "patientoverblik_source_breaker_opened",
    "Times a source's circuit breaker opened (or opened again after a failed probe).",
    ["source"],
)

_WORD = re.compile(r"^[A-Za-z_$.][A-Za-z_$.-]{0,63}$")
"""A path segment kept in a route: letters, ``_``, ``$``, ``.``, ``-`` (a FHIR type, ``_history``,
``$everything``, ``.well-known``, ``jwks.json``), no digits."""
MAX_ROUTE_CHARS = 128


def route_of(path: str) -> str:
    """The route of a request path, safe to record: ``/fhir/Patient/1403723705?x=y`` → ``/fhir/Patient/{id}``.

    The query string and fragment go; a segment holding anything but letters, ``_``, ``$``, ``.`` or
    ``-`` becomes ``{id}``, and so does the segment after a FHIR resource type (a segment starting with a
    capital letter), whatever it holds. An absolute URL (a next link) keeps only its path. At most
    :data:`MAX_ROUTE_CHARS` characters.
    """
    path = urlsplit(path).path if "://" in path else path.split("?", 1)[0].split("#", 1)[0]
    kept: list[str] = []
    identifier_next = False
    for segment in path.split("/"):
        if not segment:
            kept.append(segment)
        elif identifier_next or not _WORD.fullmatch(segment):
            kept.append("{id}")
            identifier_next = False
        else:
            kept.append(segment)
            identifier_next = segment[0].isupper()
    return "/".join(kept)[:MAX_ROUTE_CHARS] or "/"


@dataclass(slots=True)
class CallRecord:
    """What one call did, filled in as it goes: attempts made and the last status seen."""

    source: str
    attempts: int = 0
    status: int | None = None

    def attempt(self) -> None:
        """Note one more request sent (the second and later are retries)."""
        self.attempts += 1
        self.status = None
        if self.attempts > 1:
            SOURCE_RETRIES.labels(self.source).inc()
            trace.get_current_span().add_event("retry", {"patientoverblik.attempt": self.attempts})


@asynccontextmanager
async def observed_call(
    source: str, method: str, path: str, server: tuple[str, int | None], breaker_state: Callable[[], str]
) -> AsyncIterator[CallRecord]:
    """Run one upstream call inside its span, and count it when it ends (however it ends).

    ``server`` is the upstream's host and port; ``breaker_state`` reads the source's breaker state
    after the call. The exception the call raises passes through unchanged.
    """
    route = route_of(path)
    record = CallRecord(source)
    started = time.perf_counter()
    attributes: dict[str, str | int] = {
        "patientoverblik.source": source,
        "http.request.method": method,
        "url.template": route,
        "server.address": server[0],
    }
    if server[1] is not None:
        attributes["server.port"] = server[1]
    with TRACER.start_as_current_span(
        f"{method} {route}", kind=SpanKind.CLIENT, attributes=attributes, record_exception=False
    ) as span:
        error: BaseException | None = None
        try:
            yield record
        except BaseException as exc:
            error = exc
            raise
        finally:
            outcome = outcome_of(error, record.status)
            SOURCE_CALLS.labels(source, outcome.value).inc()
            SOURCE_CALL_SECONDS.labels(source).observe(time.perf_counter() - started)
            if record.status is not None:
                span.set_attribute("http.response.status_code", record.status)
            if record.attempts > 1:
                span.set_attribute("http.request.resend_count", record.attempts - 1)
            span.set_attribute("patientoverblik.outcome", outcome.value)
            span.set_attribute("patientoverblik.breaker.state", breaker_state())
            if error is not None:
                span.set_attribute("error.type", type(error).__name__)
                span.set_status(Status(StatusCode.ERROR))


def outcome_of(error: BaseException | None, status: int | None) -> CallOutcome:
    """The outcome of a call that raised ``error`` (``None``: it returned) after the last ``status``."""
    if error is None:
        return CallOutcome.OK if status is None or status < 400 else CallOutcome.REJECTED
    if isinstance(error, asyncio.CancelledError):
        return CallOutcome.CANCELLED
    if not isinstance(error, SourceError):
        return CallOutcome.ERROR
    if isinstance(error, SourceSkipped):
        return CallOutcome.SKIPPED
    if isinstance(error, SourceTimeout):
        return CallOutcome.TIMEOUT
    if isinstance(error, SourceCircuitOpen):
        return CallOutcome.CIRCUIT_OPEN
    if isinstance(error, SourceResponseInvalid):
        return CallOutcome.INVALID_RESPONSE
    if isinstance(error, SourceRejected) or (status is not None and 400 <= status < 500):
        return CallOutcome.REJECTED
    if status is not None and status >= 500:
        return CallOutcome.SERVER_ERROR
    if isinstance(error, SourceUnavailable):
        return CallOutcome.UNAVAILABLE
    return CallOutcome.ERROR
