"""The HTTP edge: bearer-token authentication and the GraphQL endpoint.

``BearerAuth`` is plain ASGI middleware: a request without ``Authorization`` continues as the
anonymous actor (the schema can be explored; patient data is ``UNAUTHENTICATED``); a request whose
token cannot be verified gets **401** with a GraphQL-shaped body and ``WWW-Authenticate``, before
GraphQL runs. ``GraphQLApp`` builds the per-request context inside the running loop.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

from auth.actor import ANONYMOUS, Actor
from auth.errors import AuthenticationFailed
from auth.tokens import TokenVerifier
from gateway.context import RequestContext, SourceWriters
from gateway.errors import ErrorCode
from resolvers.loaders import Loaders

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class BearerAuth:
    """Verify the bearer token once per request and put the :class:`Actor` in ``scope['state']``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        header = request.headers.get("authorization")
        actor: Actor = ANONYMOUS
        if header is not None:
            try:
                actor = await self._verify(request, header)
            except AuthenticationFailed as exc:
                await _unauthorized(str(exc))(scope, receive, send)
                return
        scope.setdefault("state", {})["actor"] = actor
        await self.app(scope, receive, send)

    async def _verify(self, request: Request, header: str) -> Actor:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        verifier: TokenVerifier = request.app.state.services.verifier
        return await verifier.verify(token.strip())


def _unauthorized(message: str) -> Response:
    body = {"errors": [{"message": f"Unauthenticated: {message}.", "extensions": {"code": ErrorCode.UNAUTHENTICATED}}]}
    return JSONResponse(
        body, status_code=401, headers={"www-authenticate": 'Bearer error="invalid_token"', "cache-control": "no-store"}
    )


class GraphQLApp(GraphQL[RequestContext, None]):
    """strawberry's ASGI GraphQL app with the gateway's context and the offline GraphiQL page."""

    def __init__(self, *args: Any, ide_html: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ide_html = ide_html

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        services = request.app.state.services
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        if isinstance(response, Response):
            response.headers["x-request-id"] = request_id
            response.headers["cache-control"] = "no-store"
        return RequestContext(
            actor=request.scope.get("state", {}).get("actor", ANONYMOUS),
            request_id=request_id,
            loaders=Loaders.for_request(services.sources),
            access=services.access,
            writers=SourceWriters(services.sources.stamkort, services.sources.consent),
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html)
