"""Request headers that must come once: a request that repeats one is refused before anything reads it.

Starlette's ``request.headers.get`` returns the first of repeated headers, and a proxy in front may
read the last: two ``Authorization`` headers (a client's and one a proxy added, or a smuggling
attempt) would silently pick one identity, two ``Content-Type`` headers one reading of the body. So a
request carrying more than one of :data:`SINGLE_HEADERS` gets HTTP 400 ``BAD_REQUEST`` (a coded
GraphQL error body naming the header, never its values) before authentication, rate limits or
GraphQL (ADR 0028). Headers that are lists by definition (``Accept``, ``X-Forwarded-For``) may repeat;
a repeated ``X-Request-Id`` decides nothing and is not refused: differing values give no correlation
id (:func:`gateway.telemetry.correlation_id_of`).
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import ErrorCode
from gateway.request import error_response

SINGLE_HEADERS: Final = {b"authorization": "Authorization", b"content-type": "Content-Type"}
"""The headers a request may carry at most once (lower-case wire name → the name a message uses)."""


class SingleHeaders:
    """ASGI middleware refusing an HTTP request that repeats any of :data:`SINGLE_HEADERS`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (repeated := _repeated(scope["headers"])):
            message = f"The request has {repeated[1]} {repeated[0]} headers; send one."
            await error_response(400, ErrorCode.BAD_REQUEST, message)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _repeated(headers: list[tuple[bytes, bytes]]) -> tuple[str, int] | None:
    """The first of :data:`SINGLE_HEADERS` that ``headers`` repeat, and how often it comes; ``None``."""
    counts: dict[bytes, int] = {}
    for name, _ in headers:
        if name.lower() in SINGLE_HEADERS:
            counts[name.lower()] = counts.get(name.lower(), 0) + 1
    return next(((SINGLE_HEADERS[name], count) for name, count in counts.items() if count > 1), None)
