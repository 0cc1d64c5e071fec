"""Traces and metrics of real requests over the sandbox (issue 13, ADR 0019).

Spans are recorded by an in-memory exporter on the process's tracer provider, as an OTLP collector
would get them: one server span per request, one for the access decision and one per upstream call,
counted against the requests the sandbox's sources received; no attribute, name or event of any span
holds a CPR number or a name. Metrics are read from ``/metrics`` as Prometheus scrapes them, and
counted as deltas around each request.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from sandbox.population import Population
from sources.breaker import BreakerPolicy
from tests.e2e.conftest import (
    BLOCKED_DOCTOR,
    BLOCKS_DOCTOR,
    HANS,
    OVERVIEW,
    SINGLE_SOURCES,
    Gateway,
    recorded,
)
from tests.e2e.log_scan import CPR, forbidden_words
from tests.e2e.test_appointments_http import APPOINTMENTS, hans_range


class Recording(SpanProcessor):
    """Keeps the spans that end while a test records (the provider is the process's, for the session)."""

    def __init__(self) -> None:
        self.on = False
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        if self.on:
            self.spans.append(span)


_RECORDING = Recording()


@pytest.fixture
def spans() -> Iterator[list[ReadableSpan]]:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
        provider.add_span_processor(_RECORDING)
    elif _RECORDING not in getattr(provider._active_span_processor, "_span_processors", ()):
        provider.add_span_processor(_RECORDING)
    _RECORDING.spans.clear()
    _RECORDING.on = True
    yield _RECORDING.spans
    _RECORDING.on = False


def attribute(span: ReadableSpan, key: str) -> object:
    return (span.attributes or {}).get(key)


def sources_of(spans: Sequence[ReadableSpan]) -> Counter[str]:
    return Counter(str(attribute(s, "patientoverblik.source")) for s in spans if s.kind is SpanKind.CLIENT)


async def test_an_overview_request_is_one_trace_with_a_span_per_source_call(
    gateway: Gateway, spans: list[ReadableSpan]
) -> None:
    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "POST /graphql"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/graphql"
    assert server.attributes["graphql.operation.name"] == "Overview"
    assert server.attributes["patientoverblik.outcome"] == "ok"
    assert {s.context.trace_id for s in spans} == {server.context.trace_id}
    (decision,) = [s for s in spans if s.name == "access decision"]
    assert decision.attributes is not None and decision.attributes["patientoverblik.patients"] == 1
    asked = {name: recorded(gateway.sandbox, name) for name in SINGLE_SOURCES if recorded(gateway.sandbox, name)}
    asked["token_issuer"] = recorded(gateway.sandbox, "issuer")  # the key set, fetched for the first token
    assert sources_of(spans) == asked
    for call in (s for s in spans if s.kind is SpanKind.CLIENT):
        assert call.attributes is not None
        assert call.attributes["patientoverblik.outcome"] == "ok"
        assert call.attributes["patientoverblik.breaker.state"] == "closed"
        assert call.attributes["http.response.status_code"] == 200


async def test_a_failed_source_call_says_how_in_its_span(gateway: Gateway, spans: list[ReadableSpan]) -> None:
    gateway.sandbox.control("stamkort").faults.update({"mode": "down"})

    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    (call,) = [s for s in spans if s.kind is SpanKind.CLIENT and attribute(s, "patientoverblik.source") == "stamkort"]
    assert call.attributes is not None
    assert call.attributes["patientoverblik.outcome"] == "server_error"
    assert call.attributes["http.response.status_code"] == 503
    assert call.attributes["error.type"] == "SourceUnavailable"
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.attributes is not None and server.attributes["patientoverblik.outcome"] == "partial"


async def test_a_caller_trace_context_is_continued(gateway: Gateway, spans: list[ReadableSpan]) -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    await gateway.client.post(
        "/graphql",
        json={"query": OVERVIEW, "variables": {"cpr": HANS}},
        headers={"authorization": f"Bearer {gateway.citizen(HANS)}", "traceparent": parent},
    )

    assert {format(s.context.trace_id, "032x") for s in spans} == {"0af7651916cd43dd8448eb211c80319c"}


async def test_no_span_holds_a_cpr_number_or_a_name(
    gateway: Gateway, spans: list[ReadableSpan], population: Population
) -> None:
    doctor = gateway.professional(BLOCKED_DOCTOR)
    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)
    await gateway.graphql(APPOINTMENTS, gateway.citizen(HANS), cpr=HANS, **hans_range(population))
    await gateway.graphql(OVERVIEW, doctor, cpr=BLOCKS_DOCTOR)
    await gateway.graphql(OVERVIEW, None, cpr=HANS)
    await gateway.client.get("/graphql", params={"query": f'{{ patient(cpr: "{HANS}") {{ cpr }} }}'})
    await gateway.graphql(f'query P{HANS} {{ patient(cpr: "{HANS}") {{ cpr }} }}', gateway.citizen(HANS))

    assert len(spans) > 20
    words = forbidden_words(population)
    for span in spans:
        shown = " ".join([span.name, *map(str, (span.attributes or {}).values())])
        shown += " ".join(str(v) for e in span.events for v in (e.attributes or {}).values())
        assert not CPR.search(shown), shown
        assert not [w for w in words if w in shown], shown


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def scrape(gateway: Gateway) -> str:
    response = await gateway.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return response.text


FAMILIES = (
    "patientoverblik_requests_total",
    "patientoverblik_request_duration_seconds_bucket",
    "patientoverblik_source_calls_total",
    "patientoverblik_source_call_duration_seconds_bucket",
    "patientoverblik_access_decisions_total",
    "patientoverblik_access_log_write_duration_seconds_bucket",
    "patientoverblik_access_log_export_pending",
    "patientoverblik_access_log_dead_letters",
    "patientoverblik_source_breaker_state",
    "patientoverblik_token_keys_usable",
    "patientoverblik_token_keys_skipped",
    "# TYPE patientoverblik_rate_limited_total counter",
)


async def test_metrics_show_every_family_after_an_overview(gateway: Gateway) -> None:
    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    text = await scrape(gateway)

    for family in FAMILIES:
        assert family in text, family
    assert (
        'patientoverblik_source_breaker_state{patientoverblik_source_breaker_state="closed",source="cpr"} 1.0' in text
    )
    # The gateway's own families (the process's memory sizes are numbers that may look like anything).
    own = "\n".join(line for line in text.splitlines() if "patientoverblik_" in line)
    assert not CPR.search(own)


async def test_metrics_are_only_for_the_allowed_networks(gateway: Gateway) -> None:
    app = gateway.client._transport.app  # type: ignore[attr-defined]
    outside = httpx.ASGITransport(app=app, client=("192.0.2.7", 40000))
    async with httpx.AsyncClient(transport=outside, base_url="http://gateway.test") as client:
        response = await client.get("/metrics")

    assert response.status_code == 404
    assert "patientoverblik" not in response.text


@pytest.mark.parametrize(
    ("name", "label"),
    [("Overview", "Overview"), ("HansTestJensen", "other"), (None, "anonymous")],
)
async def test_requests_are_counted_by_a_bounded_operation_label(
    gateway: Gateway, name: str | None, label: str
) -> None:
    query = OVERVIEW.replace("query Overview", f"query {name}" if name else "query")
    before = sample("patientoverblik_requests_total", operation=label, outcome="ok")

    body = await gateway.graphql(query, gateway.citizen(HANS), cpr=HANS)

    assert "errors" not in body
    assert sample("patientoverblik_requests_total", operation=label, outcome="ok") == before + 1
    assert "HansTestJensen" not in await scrape(gateway)


async def test_outcomes_of_refused_and_partial_requests(gateway: Gateway) -> None:
    def count(operation: str, outcome: str) -> float:
        return sample("patientoverblik_requests_total", operation=operation, outcome=outcome)

    before = {k: count(*k) for k in [("none", "unauthenticated"), ("none", "refused"), ("Overview", "partial")]}
    denied = ("deny", "consent_denied")
    decisions = sample("patientoverblik_access_decisions_total", verdict=denied[0], reason=denied[1])

    await gateway.post(OVERVIEW, "not-a-token", cpr=HANS)
    await gateway.client.post("/graphql", content=b"not json", headers={"content-type": "application/json"})
    query = OVERVIEW.replace("masterCard {", "appointments { withheld } masterCard {")
    await gateway.graphql(query, gateway.professional(BLOCKED_DOCTOR), cpr=BLOCKS_DOCTOR)

    assert {k: count(*k) - v for k, v in before.items()} == {
        ("none", "unauthenticated"): 1,
        ("none", "refused"): 1,
        ("Overview", "partial"): 1,
    }
    assert sample("patientoverblik_access_decisions_total", verdict=denied[0], reason=denied[1]) == decisions + 1


async def test_source_calls_are_counted_as_the_sources_received_them(gateway: Gateway) -> None:
    before = {name: sample("patientoverblik_source_calls_total", source=name, outcome="ok") for name in SINGLE_SOURCES}

    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    for name in SINGLE_SOURCES:
        counted = sample("patientoverblik_source_calls_total", source=name, outcome="ok") - before[name]
        assert counted == recorded(gateway.sandbox, name), name


async def test_an_open_breaker_shows_at_the_next_scrape(gateway: Gateway) -> None:
    gateway.sandbox.control("stamkort").faults.update({"mode": "down"})
    opened = sample("patientoverblik_source_breaker_opened_total", source="stamkort")

    for _ in range(BreakerPolicy().failures):
        await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    text = await scrape(gateway)
    assert (
        'patientoverblik_source_breaker_state{patientoverblik_source_breaker_state="open",source="stamkort"} 1.0'
        in text
    )
    assert sample("patientoverblik_source_breaker_opened_total", source="stamkort") == opened + 1


async def test_the_export_backlog_is_the_access_logs_own_count(gateway: Gateway) -> None:
    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)

    text = await scrape(gateway)
    status = await gateway.access_log.export_status()

    assert re.search(rf"^patientoverblik_access_log_export_pending {status.pending}\.0$", text, re.M)
    assert re.search(rf"^patientoverblik_access_log_dead_letters {status.set_aside}\.0$", text, re.M)


async def test_skipped_keys_of_the_issuers_key_set_are_counted_by_reason(gateway: Gateway) -> None:
    issuer = gateway.sandbox.sandbox.issuer
    assert issuer is not None
    issuer.set_extra_keys(["unknown-curve", "malformed-rsa", "symmetric"])

    await gateway.graphql(OVERVIEW, gateway.citizen(HANS), cpr=HANS)  # the gateway's first key set fetch

    assert sample("patientoverblik_token_keys_skipped", reason="unsupported") == 1
    assert sample("patientoverblik_token_keys_skipped", reason="malformed") == 1
    assert sample("patientoverblik_token_keys_skipped", reason="private") == 1  # a symmetric key is a secret
    assert sample("patientoverblik_token_keys_usable") == 1
