"""CORS: which other origins' pages may call ``/graphql`` (Starlette's ``CORSMiddleware``).

``PATIENTOVERBLIK_CORS_ALLOW_ORIGINS`` lists the origins (``["https://app.example"]``); none by
default, so outside the demo a browser page on another origin is refused until the operator names
it. ``["*"]`` lets any origin in (the demo): the page authenticates with its bearer token, which a
browser never sends by itself, so no origin can ride on a user's session. Credentials (cookies) are
off unless configured, and never with ``*`` (a settings error). The preflight answer
(``OPTIONS /graphql``) is cached by browsers for ``PATIENTOVERBLIK_CORS_MAX_AGE_S`` (600 s).

Allowed request headers are every one the gateway reads from a request: ``authorization``,
``content-type``, ``accept``, the correlation ids (``x-request-id``, ``x-correlation-id``) and the
trace context (``traceparent``, ``tracestate``). The page may read every response header the gateway
sets that is not CORS-safelisted: the ids (``x-request-id``, ``x-correlation-id``), ``retry-after`` (a
429), ``www-authenticate`` (a 401) and ``allow`` (a 405). The lists come from the modules that read and
set the headers.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from gateway.http_errors import http_error_response
from gateway.telemetry import ANSWER_HEADERS, CORRELATION_HEADERS, TRACE_HEADERS

ALLOWED_HEADERS: Final = ("authorization", "content-type", "accept", *CORRELATION_HEADERS, *TRACE_HEADERS)
EXPOSED_HEADERS: Final = (*ANSWER_HEADERS, "retry-after", "www-authenticate", "allow")


class CodedCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, refusing a preflight with a coded body rather than plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        # Starlette's reason names only what was refused ("Disallowed CORS origin, headers"), nothing sent.
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")}
        return http_error_response(response.status_code, "OPTIONS", headers, f"{bytes(response.body).decode()}.")


def cors_middleware(origins: list[str], *, credentials: bool, max_age_s: int) -> list[Middleware]:
    """The CORS middleware for ``origins`` (empty: none at all, so no CORS headers are ever sent)."""
    if not origins:
        return []
    if credentials and "*" in origins:
        raise ValueError("CORS credentials cannot be allowed for the origin '*'")
    return [
        Middleware(
            CodedCORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=list(ALLOWED_HEADERS),
            expose_headers=list(EXPOSED_HEADERS),
            allow_credentials=credentials,
            max_age=max_age_s,
        )
    ]
