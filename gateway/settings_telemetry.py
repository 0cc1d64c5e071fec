"""Settings of logs, metrics and traces (ADR 0019): ``PATIENTOVERBLIK_LOG__*``, ``_METRICS__*``, ``_TRACING__*``.

| variable | default | meaning |
|---|---|---|
| ``LOG__FORMAT`` | ``json`` | ``json``: one JSON object a line; ``text``: one readable line (both filtered) |
| ``LOG__LEVEL`` | ``INFO`` | the least level written (``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``) |
| ``METRICS__ENABLED`` | ``true`` | serve Prometheus metrics at ``/metrics`` |
| ``METRICS__ALLOW`` | ``["127.0.0.0/8", "::1/128"]`` | networks whose clients may read ``/metrics`` (others: 404) |
| ``METRICS__OPERATIONS`` | ``[]`` | operation names with their own series, besides the web page's |
| ``TRACING__EXPORTER`` | ``none`` | ``otlp`` (OTLP over HTTP/protobuf), ``console`` (spans on stdout), ``none`` |
| ``TRACING__OTLP_ENDPOINT`` | unset | the collector's traces URL, e.g. ``http://collector:4318/v1/traces`` |
|  |  | (unset: the SDK's ``OTEL_EXPORTER_OTLP_*`` variables, else ``localhost:4318``) |
| ``TRACING__OTLP_HEADERS`` | unset | ``key=value,key=value`` sent with each export (an API key: masked) |
| ``TRACING__SERVICE_NAME`` | ``patientoverblik`` | ``service.name`` of the spans |
| ``TRACING__SAMPLE_RATIO`` | ``1.0`` | share of traces recorded when the caller sent no sampling decision |
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from gateway.settings_upstream import UpstreamUrl

LOOPBACK: tuple[IPv4Network | IPv6Network, ...] = (IPv4Network("127.0.0.0/8"), IPv6Network("::1/128"))
"""The default readers of ``/metrics``: clients on this host."""


class LogFormat(StrEnum):
    """How log lines are written."""

    JSON = "json"
    TEXT = "text"


class LogLevel(StrEnum):
    """The least level of a log line that is written."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class TraceExporter(StrEnum):
    """Where spans go."""

    NONE = "none"
    """Nowhere: no tracer provider is installed, and spans cost nothing."""
    OTLP = "otlp"
    """To an OpenTelemetry collector over OTLP/HTTP (protobuf), batched."""
    CONSOLE = "console"
    """To standard output, one JSON document per span (for operators trying it out)."""


class LogSettings(BaseModel):
    """The gateway's logs."""

    model_config = ConfigDict(extra="forbid")

    format: LogFormat = Field(default=LogFormat.JSON, description="json (one object a line) or text.")
    level: LogLevel = Field(default=LogLevel.INFO, description="The least level written.")


class MetricsSettings(BaseModel):
    """Prometheus metrics at ``/metrics``."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Serve `/metrics`.")
    allow: list[IPv4Network | IPv6Network] = Field(
        default_factory=lambda: list(LOOPBACK),
        description="Networks whose clients may read `/metrics`; any other client gets 404.",
    )
    operations: list[Annotated[str, StringConstraints(pattern=r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")]] = Field(
        default_factory=list,
        description="Operation names counted under their own name besides the web page's (others: `other`).",
    )


class TracingSettings(BaseModel):
    """OpenTelemetry traces."""

    model_config = ConfigDict(extra="forbid")

    exporter: TraceExporter = Field(default=TraceExporter.NONE, description="otlp, console or none (off).")
    otlp_endpoint: UpstreamUrl | None = Field(default=None, description="The collector's OTLP/HTTP traces URL.")
    otlp_headers: SecretStr | None = Field(default=None, description="key=value,key=value sent with every export.")
    service_name: str = Field(default="patientoverblik", min_length=1, description="`service.name` of every span.")
    sample_ratio: float = Field(default=1.0, ge=0, le=1, description="Share of new traces recorded.")
