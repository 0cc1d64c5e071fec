"""Prometheus metrics at ``/metrics``, and the gateway's own metric families (ADR 0019).

Every family lives in prometheus-client's default registry, defined by the layer that counts it:

| family | labels | defined in |
|---|---|---|
| ``patientoverblik_requests_total`` | ``operation``, ``outcome`` | here (counted by :mod:`gateway.telemetry`) |
| ``patientoverblik_request_duration_seconds`` (histogram) | ``operation``, ``outcome`` | here |
| ``patientoverblik_rate_limited_total`` | ``limit`` | here: :data:`RATE_LIMITED` |
| ``patientoverblik_source_breaker_state`` (enum) | ``source``, state | here, read at each scrape |
| ``patientoverblik_access_log_export_pending``, ``…_dead_letters`` | | here, read at each scrape |
| ``patientoverblik_ready``, ``…_readiness_check``, ``…_changes_total`` | ``check``, ``state`` | ``gateway.readiness`` |
| ``patientoverblik_access_decisions_total`` and the access-log write latency | | :mod:`auth.telemetry` |
| ``patientoverblik_token_keys_usable``, ``…_skipped`` (JWKS) | ``reason`` | :mod:`auth.telemetry` |
| ``patientoverblik_access_log_export_lease_held`` | | :mod:`auth.telemetry` |
| ``patientoverblik_source_calls_total``, ``…_duration_seconds`` | ``source``, ``outcome`` | :mod:`sources.telemetry` |
| ``patientoverblik_source_retries_total``, ``…_breaker_opened_total`` | ``source`` | :mod:`sources.telemetry` |

plus prometheus-client's ``process_*`` and ``python_*`` families. Only ``/graphql`` requests are
counted. Every label value comes from a closed set: ``outcome`` from :class:`RequestOutcome`, and
``operation`` from :class:`OperationNames` — caller-chosen operation names would let any caller grow
the series without bound and could carry personal data, so only names the gateway knows keep their
own series (the web page's operations, ``PATIENTOVERBLIK_METRICS__OPERATIONS``, and the trusted
documents' names when there are any); every other name is ``other``, no name ``anonymous``, and a
request refused before its operation was read ``none``.

**Rate limits** (for the modules that refuse requests over a limit): count each refusal with
``RATE_LIMITED.labels(limit).inc()``, ``limit`` a fixed name of the limit (``"requests"``, ``"cost"``),
never a client id or address.

**Who may read** ``/metrics``: it is served when ``PATIENTOVERBLIK_METRICS__ENABLED`` (default on), to
clients whose address is in ``PATIENTOVERBLIK_METRICS__ALLOW`` (default loopback only); anyone else
gets 404, as if there were no such page. Behind a reverse proxy on the same host, the proxy must not
forward ``/metrics`` (uvicorn takes the client address from ``X-Forwarded-For`` only from proxies it
trusts, ``FORWARDED_ALLOW_IPS``). Metrics hold counts, durations, source names and operation names of
the gateway's own clients, never a CPR number, a name or a caller's identity.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Final

from graphql import OperationDefinitionNode, parse
from prometheus_client import REGISTRY, Counter, Enum, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from auth.access_log import AccessLog
from gateway.web import OPERATIONS_DIR
from sources.breaker import BreakerState

_log = logging.getLogger(__name__)

ANONYMOUS: Final = "anonymous"
"""The ``operation`` label of an operation without a name."""
OTHER: Final = "other"
"""The ``operation`` label of a name the gateway does not know."""
NONE: Final = "none"
"""The ``operation`` label of a request refused before its operation was read."""
STORE_TIMEOUT_S: Final = 2.0
"""The longest a scrape waits for the access log's export counts."""


class RequestOutcome(StrEnum):
    """How a ``/graphql`` request ended (the ``outcome`` label)."""

    OK = "ok"
    """HTTP 200, no errors."""
    PARTIAL = "partial"
    """HTTP 200 with data and errors (a denied category, a source down …)."""
    FAILED = "failed"
    """HTTP 200 with errors and no data (an invalid or too complex operation)."""
    REFUSED = "refused"
    """HTTP 4xx before GraphQL ran (body, content type, size), other than the two below."""
    UNAUTHENTICATED = "unauthenticated"
    """HTTP 401: the bearer token could not be verified."""
    RATE_LIMITED = "rate_limited"
    """HTTP 429."""
    ERROR = "error"
    """HTTP 5xx."""


REQUESTS = Counter(
    "patientoverblik_requests",
    "GraphQL requests (POST /graphql) by operation name and outcome.",
    ["operation", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "patientoverblik_request_duration_seconds",
    "GraphQL request duration in seconds, from the first byte in to the last byte out.",
    ["operation", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RATE_LIMITED = Counter(
    "patientoverblik_rate_limited", "Requests refused by a rate or cost limit, by the limit's name.", ["limit"]
)
RATE_LIMIT_STORE_AVAILABLE = Gauge(
    "patientoverblik_rate_limit_store_available",
    "1 while the rate-limit store (Redis) answers, 0 while requests are let through unchecked.",
)
RATE_LIMIT_UNCHECKED = Counter(
    "patientoverblik_rate_limit_unchecked",
    "Requests let through without a rate or cost check because the rate-limit store did not answer, by limit.",
    ["limit"],
)
BREAKER_STATE = Enum(
    "patientoverblik_source_breaker_state",
    "Each upstream's circuit breaker state (read at each scrape).",
    ["source"],
    states=[state.value for state in BreakerState],
)
EXPORT_PENDING = Gauge(
    "patientoverblik_access_log_export_pending", "Access records waiting for export to Min Log (read at each scrape)."
)
DEAD_LETTERS = Gauge(
    "patientoverblik_access_log_dead_letters",
    "Access records set aside from the Min Log export until an operator retries them (read at each scrape).",
)


def web_page_operations() -> frozenset[str]:
    """The names of the web page's operations (``gateway/static/web/operations``), the gateway's own client."""
    names: set[str] = set()
    for path in OPERATIONS_DIR.glob("*.graphql"):
        document = parse(path.read_text(encoding="utf-8"))
        names |= {d.name.value for d in document.definitions if isinstance(d, OperationDefinitionNode) and d.name}
    return frozenset(names)


class OperationNames:
    """Turns an operation's name into its ``operation`` label (see the module): known names, or ``other``."""

    def __init__(self, known: Iterable[str]) -> None:
        self.known = frozenset(known)

    def label(self, name: str | None) -> str:
        """``name`` if the gateway knows it, :data:`ANONYMOUS` for none, :data:`OTHER` otherwise."""
        if not name:
            return ANONYMOUS
        return name if name in self.known else OTHER


def allowed(client: str | None, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    """Whether a client at address ``client`` may read ``/metrics``."""
    if client is None:
        return False
    try:
        address = ip_address(client)
    except ValueError:
        return False
    return any(address.version == network.version and address in network for network in networks)


def metrics_endpoint(networks: Sequence[IPv4Network | IPv6Network]) -> Callable[[Request], Awaitable[Response]]:
    """The ``GET /metrics`` endpoint answering clients in ``networks`` (others: 404)."""

    async def metrics(request: Request) -> Response:
        if not allowed(request.client.host if request.client else None, networks):
            raise HTTPException(404)  # answered as any unknown path is (gateway.http_errors)
        services = getattr(request.app.state, "services", None)
        if services is not None:
            for source, state in services.sources.breaker_states().items():
                BREAKER_STATE.labels(source).state(state.value)
            await _export_counts(services.access.access_log)
            if getattr(services, "readiness", None) is not None:
                await services.readiness.report()
        encode, media_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(REGISTRY), headers={"content-type": media_type})

    return metrics


async def _export_counts(store: AccessLog) -> None:
    """Set the export gauges from the access log; a store that cannot answer leaves them as they were."""
    try:
        counts = await asyncio.wait_for(store.export_status(), STORE_TIMEOUT_S)
    except Exception as exc:  # a scrape never fails for the store; the log says why
        _log.warning("metrics: the access log's export counts could not be read (%s)", type(exc).__name__)
        return
    EXPORT_PENDING.set(counts.pending)
    DEAD_LETTERS.set(counts.set_aside)
