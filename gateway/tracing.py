"""The OpenTelemetry SDK, installed when traces are to go somewhere (``PATIENTOVERBLIK_TRACING__*``, ADR 0019).

Spans are made where the work happens, through the OpenTelemetry API only: one per request
(:mod:`gateway.telemetry`), one for the access decision (:mod:`auth.telemetry`), one per upstream
call (:mod:`sources.telemetry`). Until :func:`install_tracing` installs a tracer provider, the API's
tracers are no-ops and cost nothing: traces are off by default.

With ``PATIENTOVERBLIK_TRACING__EXPORTER=otlp`` spans are batched to an OpenTelemetry collector over
OTLP/HTTP (protobuf) at ``TRACING__OTLP_ENDPOINT`` (or where the SDK's ``OTEL_EXPORTER_OTLP_*``
variables say), with ``TRACING__OTLP_HEADERS``; with ``console`` each span is printed to standard output
as JSON. The resource's ``service.name`` is ``TRACING__SERVICE_NAME``; a new trace is recorded with
probability ``TRACING__SAMPLE_RATIO``, and a request that comes with a ``traceparent`` follows its
caller's sampling decision. The provider is process-wide (OpenTelemetry's global): installed once, by
the first app that asks, and flushed when an app stops.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.util.re import parse_env_headers

from gateway.settings_telemetry import TraceExporter, TracingSettings

_installed: TracerProvider | None = None


def install_tracing(settings: TracingSettings) -> TracerProvider | None:
    """The process's tracer provider for ``settings``, installed on first use; ``None`` when traces are off.

    A provider another part of the process installed (a test's) is used as it is.
    """
    global _installed
    if settings.exporter is TraceExporter.NONE:
        return None
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    if _installed is None:
        provider = TracerProvider(
            resource=Resource.create({"service.name": settings.service_name}),
            sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
        )
        provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
        trace.set_tracer_provider(provider)
        _installed = provider
    return _installed


def _exporter(settings: TracingSettings) -> SpanExporter:
    match settings.exporter:
        case TraceExporter.OTLP:
            headers = parse_env_headers(settings.otlp_headers.get_secret_value()) if settings.otlp_headers else None
            return OTLPSpanExporter(endpoint=settings.otlp_endpoint, headers=headers)
        case TraceExporter.CONSOLE:
            return ConsoleSpanExporter()
        case TraceExporter.NONE:
            raise AssertionError("no exporter: traces are off")
