"""GraphQL over HTTP: the response's media type and status, as the GraphQL-over-HTTP spec asks.

A client says what it reads in ``Accept`` (GraphQL over HTTP, §*Accept*):

- ``application/graphql-response+json`` (the spec's own type): a request error (the document does
  not parse or validate, the variables do not coerce, no operation is selected, a limit is exceeded,
  a trusted document is refused) is HTTP **400** and the body has **no** ``data`` entry; once
  execution starts the status is 200 and ``data`` is there (possibly ``null``);
- ``application/json`` (or ``*/*``, or no ``Accept``): every GraphQL result is HTTP 200, as before;
  a body that is not a GraphQL request at all is 4xx in both (:mod:`gateway.request`).

``RATE_LIMITED`` is HTTP **429** with ``Retry-After`` (seconds) in both. :class:`Exchange` carries the
negotiated type through one request: :meth:`Exchange.shape` shapes the body, :meth:`Exchange.finish`
sets the status and ``Content-Type`` of the response on its way out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from starlette.responses import Response
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.errors import ErrorCode
from gateway.rate_limit import retry_after_headers

EXCHANGE_KEY: Final = "graphql_exchange"
"""Where the request's :class:`Exchange` is kept in the ASGI scope's ``state``."""


class MediaType(StrEnum):
    """The media types a GraphQL response can be sent as."""

    GRAPHQL_RESPONSE = "application/graphql-response+json"
    JSON = "application/json"


REQUEST_ERRORS: Final = frozenset(
    {
        ErrorCode.GRAPHQL_VALIDATION_FAILED,
        ErrorCode.BAD_USER_INPUT,
        ErrorCode.BAD_REQUEST,
        ErrorCode.QUERY_TOO_COMPLEX,
        ErrorCode.RATE_LIMITED,
    }
)
"""Codes of errors that stop a request before execution (no ``data``); HTTP 400 as graphql-response+json."""


def negotiate(accept: str | None) -> MediaType:
    """The media type to answer in, from the ``Accept`` header.

    The acceptable type with the highest quality wins, graphql-response+json on a tie; ``*/*``,
    ``application/*``, no header or nothing acceptable give ``application/json`` (the spec lets a
    server answer in it rather than with 406).
    """
    best: tuple[float, int, MediaType] | None = None
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = _quality(params)
        media = media.lower()
        if quality <= 0:
            continue
        for preference, candidate in enumerate((MediaType.JSON, MediaType.GRAPHQL_RESPONSE)):
            if media == candidate.value and (best is None or (quality, preference) > best[:2]):
                best = (quality, preference, candidate)
    return best[2] if best is not None else MediaType.JSON


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                return 0.0
            return quality if math.isfinite(quality) else 0.0
    return 1.0


def _codes(result: ExecutionResult) -> list[str]:
    return [str((error.extensions or {}).get("code", "")) for error in result.errors or ()]


def is_request_error(result: ExecutionResult) -> bool:
    """The request never reached execution: no data, and every error a request error without a path."""
    errors = result.errors or []
    return (
        result.data is None
        and bool(errors)
        and all(e.path is None for e in errors)
        and all(code in REQUEST_ERRORS for code in _codes(result))
    )


@dataclass
class Exchange:
    """The negotiated media type of one request, and the status and headers its response gets."""

    media_type: MediaType
    status: int | None = None
    headers: dict[str, str] | None = None

    def shape(self, body: GraphQLHTTPResponse, result: ExecutionResult) -> None:
        """Shape the response body for ``result`` (no ``data`` for a request error); note the status it needs."""
        if self.media_type is MediaType.GRAPHQL_RESPONSE and is_request_error(result):
            self.status = 400
            body.pop("data", None)
        retry_after = _retry_after(result)
        if retry_after is not None:
            self.status = 429
            self.headers = retry_after_headers(retry_after)

    def finish(self, response: Response) -> None:
        """Set the negotiated ``Content-Type``, the status and headers on a JSON response (not on GraphiQL's page)."""
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith(MediaType.JSON.value):
            return
        response.headers["content-type"] = f"{self.media_type.value}; charset=utf-8"
        if self.status is not None:
            response.status_code = self.status
        response.headers.update(self.headers or {})


def exchange_of(scope_state: Mapping[str, Any]) -> Exchange:
    """The request's exchange (``application/json`` when the request came in some other way, as in tests)."""
    found = scope_state.get(EXCHANGE_KEY)
    return found if isinstance(found, Exchange) else Exchange(MediaType.JSON)


def _retry_after(result: ExecutionResult) -> int | None:
    for error in result.errors or ():
        extensions = error.extensions or {}
        if extensions.get("code") == ErrorCode.RATE_LIMITED.value:
            seconds = extensions.get("retryAfter")
            return int(seconds) if isinstance(seconds, int) else 1
    return None
