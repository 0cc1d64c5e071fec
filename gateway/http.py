"""The HTTP edge: bearer-token authentication and the GraphQL endpoint (subscriptions: :mod:`gateway.websocket`).

``BearerAuth`` is plain ASGI middleware: a request without ``Authorization`` continues as the
anonymous actor (the schema can be explored; patient data is ``UNAUTHENTICATED``); a request whose
token cannot be verified gets **401** with a GraphQL-shaped body and ``WWW-Authenticate``, before
GraphQL runs. ``GraphQLApp`` reads the request within its limits (:mod:`gateway.request`) and builds
the per-request context inside the running loop; building it starts the request's deadline
(:mod:`sources.deadline`), which every upstream call made while serving the request then keeps to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from auth.actor import ANONYMOUS, Actor
from auth.errors import AuthenticationFailed
from auth.tokens import TokenVerifier
from gateway.clients import Client, ClientDirectory
from gateway.context import RequestContext, SourceWriters
from gateway.errors import ErrorCode
from gateway.http_errors import http_error_response
from gateway.limits import Limits
from gateway.over_http import EXCHANGE_KEY, Exchange, exchange_of, negotiate
from gateway.rate_limit import RateLimited, RateLimiter, Window, caller_key
from gateway.request import BoundedBody, RequestRefused, bounded_body, decode_json, error_response, request_data
from gateway.settings_resilience import DeadlineSettings
from gateway.settings_subscriptions import SubscriptionSettings
from gateway.streams import OpenSubscriptions, PollControl
from gateway.telemetry import new_request_id
from gateway.trusted import resolve
from gateway.websocket import GatewayTransportWS, bounded_websocket
from resolvers.loaders import Loaders
from sources import deadline

_CALLER_KEY = "graphql_caller"
"""Where the request's :class:`Caller` is kept in the ASGI scope's ``state``."""


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
        return await verify_bearer(request.app.state.services.verifier, header)


async def verify_bearer(verifier: TokenVerifier, header: str) -> Actor:
    """The actor of an ``Authorization: Bearer <token>`` value; :class:`AuthenticationFailed` otherwise."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
    return await verifier.verify(token.strip())


def _unauthorized(message: str) -> Response:
    headers = {"www-authenticate": 'Bearer error="invalid_token"'}
    return error_response(401, ErrorCode.UNAUTHENTICATED, f"Unauthenticated: {message}.", headers)


@dataclass(frozen=True, slots=True)
class Caller:
    """The calling client and the key its requests and cost are counted under, for one request."""

    client: Client
    rate_key: str


class GraphQLApp(GraphQL[RequestContext, None]):
    """strawberry's ASGI GraphQL app with the gateway's context, request reading and GraphiQL page.

    Requests are read by :mod:`gateway.request` (bounded body, strict JSON, the shape of a GraphQL
    request); a document named by id or hash comes from the client's trusted documents
    (:mod:`gateway.trusted`); every refusal, strawberry's own included, is a GraphQL error body with a
    code, in the media type the client accepts (:mod:`gateway.over_http`). Each POST counts against
    the caller's requests per window (:mod:`gateway.rate_limit`) before its body is read.
    """

    graphql_transport_ws_handler_class = GatewayTransportWS

    def __init__(
        self,
        schema: BaseSchema,
        *,
        ide_html: str = "",
        limits: Limits | None = None,
        clients: ClientDirectory | None = None,
        deadline: DeadlineSettings | None = None,
        subscriptions: SubscriptionSettings | None = None,
        **kwargs: Any,
    ) -> None:
        self.subscriptions = subscriptions or SubscriptionSettings()
        super().__init__(
            schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=self.subscriptions.connection_init_timeout,
            max_subscriptions_per_connection=None,  # the gateway's own limits, coded (gateway.websocket)
            **kwargs,
        )
        self._ide_html = ide_html
        self._clients = clients or ClientDirectory()
        self.request_adapter_class = bounded_body(limits or Limits())
        self.websocket_adapter_class = bounded_websocket(self.subscriptions.max_message_bytes)
        self._deadline = deadline or DeadlineSettings()
        self.open_subscriptions = OpenSubscriptions()
        """Subscriptions running in this process, per caller."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        state = scope.setdefault("state", {})
        exchange = Exchange(negotiate(", ".join(request.headers.getlist("accept"))))  # a list header may repeat
        actor: Actor = state.get("actor", ANONYMOUS)
        client = self._clients.client_of(actor)
        address = request.client.host if request.client else None
        caller = Caller(client, caller_key(self._clients.rate_key(actor, address)))
        state[EXCHANGE_KEY], state[_CALLER_KEY] = exchange, caller
        outside = deadline.none()  # get_context starts the deadline; this ends it with the request
        try:
            if request.method == "POST":
                await self._count_request(request, caller)
            response = await self.run(request)
        except RequestRefused as refused:
            response = refused.response()
        except RateLimited as limited:
            response = RequestRefused.over(429, ErrorCode.RATE_LIMITED, limited, limited.headers()).response()
        except HTTPException as exc:  # strawberry's own refusals (method, operation type, IDE disabled)
            response = self._refused(exc, request.method)
        finally:
            deadline.reset(outside)
        exchange.finish(response)
        await response(scope, receive, send)

    def _refused(self, exc: HTTPException, method: str) -> Response:
        """strawberry's refusal as the edge's coded body: a method it does not take, or GET without GraphiQL,
        is 405 with ``Allow``."""
        if exc.status_code in (404, 405):
            allow = "GET, POST" if self.graphql_ide else "POST"
            return http_error_response(405, method, {"allow": allow})
        return http_error_response(exc.status_code, method, message=exc.reason)

    @staticmethod
    async def _count_request(request: Request, caller: Caller) -> None:
        limiter: RateLimiter | None = getattr(request.app.state.services, "limiter", None)
        if limiter is not None:
            await limiter.take(caller.rate_key, caller.client.budget, Window.REQUESTS)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method != "POST":
            raise RequestRefused(
                405, ErrorCode.BAD_REQUEST, "Send GraphQL requests as POST with a JSON body.", {"allow": "POST"}
            )
        media_type = (request.content_type or "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            raise RequestRefused(415, ErrorCode.BAD_REQUEST, "The body must be JSON (content-type: application/json).")
        value = decode_json(await request.get_body())
        caller = _caller_of(request)
        if isinstance(value, dict):
            value = resolve(value, caller.client.documents, caller.client.trusted_documents_only)
        return request_data(value)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        exchange_of(request.scope.get("state", {})).shape(body, result)
        return body

    async def get_context(self, request: Any, response: Any) -> RequestContext:
        services = request.app.state.services
        if isinstance(request, WebSocket):  # the connection's; each subscription gets its own
            return self._context(services, ANONYMOUS, new_request_id(), None)
        # The request is read: from here on its upstream work keeps to one deadline (ADR 0024).
        deadline.start(self._deadline.request_s, self._deadline.min_call_s)
        request_id = request.scope.get("state", {}).get("request_id") or new_request_id()
        if isinstance(response, Response):
            response.headers["x-request-id"] = request_id
            response.headers["cache-control"] = "no-store"
        state = request.scope.get("state", {})
        return self._context(services, state.get("actor", ANONYMOUS), request_id, state.get(_CALLER_KEY))

    def _context(self, services: Any, actor: Actor, request_id: str, caller: Caller | None) -> RequestContext:
        return RequestContext(
            actor=actor,
            request_id=request_id,
            loaders=Loaders.for_request(services.sources),
            access=services.access,
            writers=SourceWriters(services.sources.stamkort, services.sources.consent),
            client=caller.client if caller else None,
            rate_key=caller.rate_key if caller else "",
            limiter=getattr(services, "limiter", None),
            explorer=self._clients.explorer(caller.client) if caller else False,
        )

    async def verify(self, services: Any, header: str) -> Actor:
        """The actor of a WebSocket's ``connection_init`` ``Authorization``; :class:`AuthenticationFailed` if none."""
        return await verify_bearer(services.verifier, header)

    def caller_of(self, actor: Actor, address: str | None) -> Caller:
        """The caller's client and the key its requests and subscriptions are counted under."""
        return Caller(self._clients.client_of(actor), caller_key(self._clients.rate_key(actor, address)))

    def subscription_context(self, services: Any, actor: Actor, caller: Caller) -> RequestContext:
        """A context of its own for one subscription: its request id, loaders, plan and polls (ADR 0023)."""
        context = self._context(services, actor, new_request_id(), caller)
        context.stream = PollControl(context, services.sources, self.subscriptions, self._deadline)
        return context

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html)


def _caller_of(request: AsyncHTTPRequestAdapter) -> Caller:
    """The caller :meth:`GraphQLApp.__call__` put in the scope (none: an unregistered caller's defaults)."""
    state = request.scope.get("state", {}) if isinstance(request, BoundedBody) else {}
    found = state.get(_CALLER_KEY)
    return found if isinstance(found, Caller) else Caller(ClientDirectory().client_of(ANONYMOUS), "")
