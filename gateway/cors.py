"""CORS: which other origins' pages may call ``/graphql`` (Starlette's ``CORSMiddleware``).

``PATIENTOVERBLIK_CORS_ALLOW_ORIGINS`` lists the origins (``["https://app.example"]``); none by
default, so outside the demo a browser page on another origin is refused until the operator names
it. ``["*"]`` lets any origin in (the demo): the page authenticates with its bearer token, which a
browser never sends by itself, so no origin can ride on a user's session. Credentials (cookies) are
off unless configured, and never with ``*`` (a settings error). The preflight answer
(``OPTIONS /graphql``) is cached by browsers for ``PATIENTOVERBLIK_CORS_MAX_AGE_S`` (600 s).

Allowed request headers are those a GraphQL client sends (``authorization``, ``content-type``,
``accept``, ``x-request-id``); the page may read ``x-request-id`` and ``retry-after``.
"""

from __future__ import annotations

from typing import Final

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

ALLOWED_HEADERS: Final = ("authorization", "content-type", "accept", "x-request-id")
EXPOSED_HEADERS: Final = ("x-request-id", "retry-after")


def cors_middleware(origins: list[str], *, credentials: bool, max_age_s: int) -> list[Middleware]:
    """The CORS middleware for ``origins`` (empty: none at all, so no CORS headers are ever sent)."""
    if not origins:
        return []
    if credentials and "*" in origins:
        raise ValueError("CORS credentials cannot be allowed for the origin '*'")
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=list(ALLOWED_HEADERS),
            expose_headers=list(EXPOSED_HEADERS),
            allow_credentials=credentials,
            max_age=max_age_s,
        )
    ]
