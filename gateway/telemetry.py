"""Per request: its id, its span, its metrics (ADR 0019).

:class:`RequestTelemetry` is ASGI middleware around the whole app. For every HTTP request it

- gives it the gateway's own request id (32 hex digits, unique per request, whatever the caller sent):
  in ``scope["state"]["request_id"]`` (the GraphQL context and the access records use it), in every
  log line written while serving (:data:`gateway.logging.REQUEST_ID`) and in the answer's
  ``X-Request-Id``. A caller's own ``X-Request-Id`` (or ``X-Correlation-Id``), when it is 8 to 64
  letters, digits, ``.``, ``_`` or ``-`` and holds no CPR-shaped run of digits, is kept beside it as
  the **correlation id**: in ``scope["state"]["correlation_id"]``, in every log line
  (:data:`gateway.logging.CORRELATION_ID`), on the span, and echoed in the answer's
  ``X-Correlation-Id``; never in the access record, which two requests sending the same id must not
  share (ADR 0024);
- runs it inside one server span, ``"{METHOD} {route}"``, continuing the caller's trace when it
  sent a ``traceparent``. Attributes: ``http.request.method``, ``http.route`` (the route's template,
  never the path or its query string), ``http.response.status_code``,
  ``patientoverblik.request_id``, ``patientoverblik.correlation_id`` (when sent) and, for
  ``/graphql``, ``graphql.operation.name`` (the operation's label,
  :class:`~gateway.metrics.OperationNames`), ``graphql.operation.type`` and ``patientoverblik.outcome``;
- counts a ``/graphql`` request in ``patientoverblik_requests_total`` and
  ``patientoverblik_request_duration_seconds`` by operation label and
  :class:`~gateway.metrics.RequestOutcome`.

:class:`OperationTelemetry` is the schema extension that tells the middleware which operation ran
and whether its result held data and errors.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from graphql import get_operation_ast
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from gateway.logging import CORRELATION_ID, REQUEST_ID
from gateway.metrics import NONE, REQUEST_SECONDS, REQUESTS, OperationNames, RequestOutcome
from sources.ids import CPR_SHAPED, new_hex_id

TRACER = trace.get_tracer("patientoverblik.gateway")
GRAPHQL_ROUTE = "/graphql"
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@dataclass
class RequestRecord:
    """What the GraphQL layer tells the middleware about the request being served."""

    names: OperationNames
    operation: str = NONE
    operation_type: str | None = None
    outcome: RequestOutcome | None = None


CURRENT: ContextVar[RequestRecord | None] = ContextVar("patientoverblik_request_record", default=None)


def new_request_id() -> str:
    """A request id of the gateway's own: 32 hex digits, never the same twice, never CPR-shaped."""
    return new_hex_id()


CORRELATION_HEADERS: Final = ("x-request-id", "x-correlation-id")
"""The request headers a caller's correlation id is read from, in this order."""
TRACE_HEADERS: Final = ("traceparent", "tracestate")
"""The W3C Trace Context request headers a caller's trace is continued from."""
ANSWER_HEADERS: Final = ("x-request-id", "x-correlation-id")
"""The response headers this middleware sets on every answer (the correlation id only when one came)."""


def correlation_id_of(headers: Headers) -> str | None:
    """The caller's ``X-Request-Id`` (else ``X-Correlation-Id``) when it is a safe id (see the module) and
    the header, if repeated, repeats the same id (differing ids are none: which one would be a guess)."""
    incoming = ""
    for name in CORRELATION_HEADERS:
        values = set(headers.getlist(name))
        if values:
            incoming = values.pop() if len(values) == 1 else ""
            break
    if _CORRELATION_ID.match(incoming) and not CPR_SHAPED.search(incoming):
        return incoming
    return None


class RequestTelemetry:
    """The middleware the module describes; ``routes`` are the app's, for route templates."""

    def __init__(self, app: ASGIApp, *, routes: Iterable[BaseRoute], names: OperationNames) -> None:
        self.app = app
        self.names = names
        self._routes = {id(endpoint): template for endpoint, template in _templates(routes)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id, correlation_id = new_request_id(), correlation_id_of(headers)
        state = scope.setdefault("state", {})
        state["request_id"], state["correlation_id"] = request_id, correlation_id
        record = RequestRecord(self.names)
        status = 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                answer = MutableHeaders(scope=message)
                answer["x-request-id"] = request_id
                if correlation_id is not None:
                    answer["x-correlation-id"] = correlation_id
            await send(message)

        id_token, record_token = REQUEST_ID.set(request_id), CURRENT.set(record)
        correlation_token = CORRELATION_ID.set(correlation_id)
        context = propagate.extract(dict(headers))
        method = scope["method"]
        with TRACER.start_as_current_span(f"{method} {scope['path']}", context=context, kind=SpanKind.SERVER) as span:
            try:
                await self.app(scope, receive, sending)
            finally:
                route = self._routes.get(id(scope.get("endpoint")), "unmatched")
                span.update_name(f"{method} {route}")
                span.set_attributes(
                    {
                        "http.request.method": method,
                        "http.route": route,
                        "http.response.status_code": status,
                        "patientoverblik.request_id": request_id,
                    }
                )
                if correlation_id is not None:
                    span.set_attribute("patientoverblik.correlation_id", correlation_id)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                if route == GRAPHQL_ROUTE:
                    self._count(span, record, status, time.perf_counter() - started)
                REQUEST_ID.reset(id_token)
                CORRELATION_ID.reset(correlation_token)
                CURRENT.reset(record_token)

    def _count(self, span: trace.Span, record: RequestRecord, status: int, seconds: float) -> None:
        outcome = outcome_of(status, record.outcome)
        span.set_attribute("graphql.operation.name", record.operation)
        if record.operation_type is not None:
            span.set_attribute("graphql.operation.type", record.operation_type)
        span.set_attribute("patientoverblik.outcome", outcome.value)
        REQUESTS.labels(record.operation, outcome.value).inc()
        REQUEST_SECONDS.labels(record.operation, outcome.value).observe(seconds)


def outcome_of(status: int, graphql: RequestOutcome | None) -> RequestOutcome:
    """The outcome of a request answered with ``status`` whose GraphQL result (if it ran) was ``graphql``."""
    if status >= 500:
        return RequestOutcome.ERROR
    if status == 401:
        return RequestOutcome.UNAUTHENTICATED
    if status == 429:
        return RequestOutcome.RATE_LIMITED
    if status >= 400:
        return RequestOutcome.REFUSED
    return graphql or RequestOutcome.OK


class OperationTelemetry(SchemaExtension):
    """Tells the request's :class:`RequestRecord` the operation's label and type and its result's outcome."""

    def on_operation(self) -> Iterator[None]:
        yield
        record = CURRENT.get()
        if record is None:
            return
        execution = self.execution_context
        document = execution.graphql_document
        operation = get_operation_ast(document, execution.operation_name) if document is not None else None
        if operation is not None:  # the operation that ran (none: the request named none of several)
            record.operation = record.names.label(operation.name.value if operation.name else None)
            record.operation_type = operation.operation.value
        result = execution.result
        errors = result.errors if result is not None else execution.pre_execution_errors
        partial = getattr(execution.context, "partial_errors", None)
        data = result.data if result is not None else None
        if not errors and not partial:
            record.outcome = RequestOutcome.OK
        else:
            record.outcome = RequestOutcome.PARTIAL if data else RequestOutcome.FAILED


def _templates(routes: Iterable[BaseRoute]) -> Iterator[tuple[object, str]]:
    """(endpoint, route template) of every route; a mount's template ends in ``/{path}``."""
    for route in routes:
        if isinstance(route, Route):
            yield route.endpoint, route.path
        elif isinstance(route, Mount):
            yield route.app, route.path + "/{path}"
